// Output lineage per statement kind: DML RETURNING, COPY, PREPARE/EXECUTE and DECLARE/FETCH (the
// outputs travel with the session's effects), statements without rows, and the literal-free cache.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Analyzer, createAnalyzer, loadAnalyzer } from './analyzer.js';
import type {
  AnalyzeContext,
  AnalyzedStatement,
  Effect,
  OutputLineage,
  StoredQuery,
} from './facts.js';

let analyzer: Analyzer;

beforeAll(async () => {
  await loadAnalyzer();
  analyzer = createAnalyzer({ cacheSize: 0 });
});

function ctx(over: Partial<AnalyzeContext> = {}): AnalyzeContext {
  return { searchPath: ['public'], prepared: () => undefined, cursors: () => undefined, ...over };
}

function all(sql: string, c: AnalyzeContext = ctx()): AnalyzedStatement[] {
  return analyzer.analyze(sql, c).statements;
}

function outputs(sql: string, c?: AnalyzeContext): readonly OutputLineage[] | null {
  const s = all(sql, c);
  expect(s).toHaveLength(1);
  return s[0]!.outputs;
}

const col = (c: string): OutputLineage => ({ kind: 'column', source: `public.${c}` });
const der = (...s: string[]): OutputLineage => ({
  kind: 'derived',
  sources: s.map((x) => `public.${x}`),
});
const star = (t: string): OutputLineage => ({ kind: 'star', table: `public.${t}` });

/** What the session stores from a Prepare or DeclareCursor effect. */
function stored(e: Effect | undefined): StoredQuery {
  if (e?.type !== 'Prepare' && e?.type !== 'DeclareCursor') throw new Error('no stored query');
  return { facts: e.facts, outputs: e.outputs };
}

describe('lineage of DML', () => {
  it('no RETURNING: no rows', () => {
    expect(outputs("INSERT INTO customers (ssn) VALUES ('1')")).toBeNull();
    expect(outputs("UPDATE customers SET ssn = '2' WHERE id = 1")).toBeNull();
    expect(outputs('DELETE FROM customers WHERE id = 1')).toBeNull();
  });

  it('RETURNING gives the returning list', () => {
    expect(outputs("INSERT INTO customers (ssn) VALUES ('1') RETURNING id, ssn")).toEqual([
      col('customers.id'),
      col('customers.ssn'),
    ]);
    expect(outputs("UPDATE customers SET name = 'x' RETURNING upper(ssn), *")).toEqual([
      der('customers.ssn'),
      star('customers'),
    ]);
    expect(
      outputs('DELETE FROM customers c USING orders o WHERE o.cid = c.id RETURNING o.total, c.ssn'),
    ).toEqual([col('orders.total'), col('customers.ssn')]);
  });

  it('RETURNING old and new name the target', () => {
    expect(outputs("UPDATE customers SET ssn = '1' RETURNING old.ssn, new.ssn || ''")).toEqual([
      col('customers.ssn'),
      der('customers.ssn'),
    ]);
  });

  it('MERGE RETURNING', () => {
    const sql =
      'MERGE INTO customers c USING staff s ON s.id = c.id WHEN MATCHED THEN DELETE RETURNING c.ssn, s.name';
    expect(outputs(sql)).toEqual([col('customers.ssn'), col('staff.name')]);
  });
});

describe('lineage of COPY', () => {
  it('COPY t TO STDOUT is the whole table; with a column list, those columns', () => {
    expect(outputs('COPY customers TO STDOUT')).toEqual([star('customers')]);
    expect(outputs('COPY customers (ssn, name) TO STDOUT (FORMAT csv)')).toEqual([
      col('customers.ssn'),
      col('customers.name'),
    ]);
  });

  it('COPY (query) TO STDOUT is the query', () => {
    expect(outputs("COPY (SELECT id, ssn || '' FROM customers) TO STDOUT")).toEqual([
      col('customers.id'),
      der('customers.ssn'),
    ]);
  });

  it('COPY FROM and COPY to a file send no rows', () => {
    expect(outputs('COPY customers FROM STDIN')).toBeNull();
    expect(outputs("COPY customers TO '/tmp/x'")).toBeNull();
  });
});

describe('lineage of prepared statements and cursors', () => {
  it('PREPARE returns no rows; its effect carries the outputs', () => {
    const [s] = all('PREPARE q(int) AS SELECT ssn FROM customers WHERE id = $1');
    expect(s!.outputs).toBeNull();
    expect(stored(s!.effects[0]).outputs).toEqual([col('customers.ssn')]);
  });

  it('EXECUTE gives the outputs the session stored', () => {
    const [p] = all('PREPARE q AS SELECT upper(ssn) FROM customers');
    const c = ctx({ prepared: (n) => (n === 'q' ? stored(p!.effects[0]) : undefined) });
    expect(outputs('EXECUTE q', c)).toEqual([der('customers.ssn')]);
  });

  it('PREPARE then EXECUTE in one query string', () => {
    const s = all('PREPARE q AS SELECT * FROM customers; EXECUTE q');
    expect(s.map((x) => x.outputs)).toEqual([null, [star('customers')]]);
  });

  it('CREATE TABLE AS EXECUTE returns no rows', () => {
    const [p] = all('PREPARE q AS SELECT ssn FROM customers');
    const c = ctx({ prepared: () => stored(p!.effects[0]) });
    expect(outputs('CREATE TABLE loot AS EXECUTE q', c)).toBeNull();
  });

  it('DECLARE returns no rows; FETCH gives the cursor query outputs, MOVE none', () => {
    const [d] = all('DECLARE cur CURSOR FOR SELECT name, ssn::text FROM customers');
    expect(d!.outputs).toBeNull();
    const c = ctx({ cursors: (n) => (n === 'cur' ? stored(d!.effects[0]) : undefined) });
    expect(outputs('FETCH 10 FROM cur', c)).toEqual([col('customers.name'), der('customers.ssn')]);
    expect(outputs('MOVE LAST IN cur', c)).toBeNull();
  });

  it('DECLARE then FETCH in one query string', () => {
    const s = all('DECLARE c CURSOR FOR SELECT ssn FROM customers; FETCH ALL FROM c');
    expect(s.map((x) => x.outputs)).toEqual([null, [col('customers.ssn')]]);
  });
});

describe('statements without table data', () => {
  it('utility statements return no rows', () => {
    for (const sql of [
      'SET work_mem = 1',
      'BEGIN',
      '',
      'CREATE TABLE t (a int)',
      'SELECT ssn INTO loot FROM customers',
      'VACUUM',
      'SELECT (',
    ]) {
      expect(outputs(sql), sql).toBeNull();
    }
  });

  it('SHOW and EXPLAIN return constants; CALL is opaque', () => {
    expect(outputs('SHOW search_path')).toEqual([der()]);
    expect(outputs('EXPLAIN SELECT ssn FROM customers')).toEqual([der()]);
    expect(outputs('CALL do_it(1)')).toEqual([{ kind: 'opaque' }]);
  });
});

describe('lineage and the literal-free cache', () => {
  it('outputs and predicate columns are cached with the facts', () => {
    const a = createAnalyzer();
    const first = a.analyze("SELECT upper(ssn) FROM customers WHERE name = 'a'", ctx())
      .statements[0]!;
    const second = a.analyze("SELECT upper(ssn) FROM customers WHERE name = 'b'", ctx())
      .statements[0]!;
    expect(a.stats().hits).toBe(1);
    expect(second.outputs).toEqual([der('customers.ssn')]);
    expect(second.outputs).toEqual(first.outputs);
    expect(second.facts.predicate_columns).toEqual(['public.customers.name']);
    expect(Object.isFrozen(second.outputs)).toBe(true);
    expect(Object.isFrozen(second.outputs?.[0])).toBe(true);
  });

  it('an ORDER BY position depends on the literal: never cached', () => {
    const a = createAnalyzer();
    const by = (n: number) =>
      a.analyze(`SELECT name, ssn FROM customers ORDER BY ${n}`, ctx()).statements[0]!;
    expect(by(1).facts.predicate_columns).toEqual(['public.customers.name']);
    expect(by(2).facts.predicate_columns).toEqual(['public.customers.ssn']);
    expect(by(2).cacheKey).toBeNull();
    expect(a.stats()).toMatchObject({ hits: 0, size: 0 });
  });
});
