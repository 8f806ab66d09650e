// Output lineage through query structure: CTEs and derived tables (pass-through and derived), set
// operations, LATERAL and functions in FROM (opaque), recursive CTEs, VALUES.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Analyzer, createAnalyzer, loadAnalyzer } from './analyzer.js';
import type { OutputLineage } from './facts.js';

let analyzer: Analyzer;

beforeAll(async () => {
  await loadAnalyzer();
  analyzer = createAnalyzer({ cacheSize: 0 });
});

const ctx = { searchPath: ['public'], prepared: () => undefined, cursors: () => undefined };

function outputs(sql: string): readonly OutputLineage[] | null {
  const r = analyzer.analyze(sql, ctx);
  expect(r.statements).toHaveLength(1);
  return r.statements[0]!.outputs;
}

const col = (c: string): OutputLineage => ({ kind: 'column', source: `public.${c}` });
const der = (...s: string[]): OutputLineage => ({
  kind: 'derived',
  sources: s.map((x) => `public.${x}`),
});
const star = (t: string): OutputLineage => ({ kind: 'star', table: `public.${t}` });
const OPAQUE: OutputLineage = { kind: 'opaque' };

describe('lineage through CTEs and derived tables', () => {
  it('a CTE passes a plain column through, by name and by declared name', () => {
    expect(outputs('WITH x AS (SELECT ssn FROM customers) SELECT ssn FROM x')).toEqual([
      col('customers.ssn'),
    ]);
    expect(outputs('WITH x(a) AS (SELECT ssn FROM customers) SELECT x.a FROM x')).toEqual([
      col('customers.ssn'),
    ]);
  });

  it('a CTE output derived from a column stays derived outside', () => {
    const sql = "WITH x AS (SELECT 'k' || ssn AS v, id FROM customers) SELECT v, id * 2 FROM x";
    expect(outputs(sql)).toEqual([der('customers.ssn'), der('customers.id')]);
  });

  it('a CTE name shadows the table it is named after', () => {
    const sql = 'WITH customers AS (SELECT secret AS ssn FROM vault) SELECT ssn FROM customers';
    expect(outputs(sql)).toEqual([col('vault.secret')]);
  });

  it('chained CTEs and nested derived tables', () => {
    expect(
      outputs(
        'WITH a AS (SELECT ssn AS s FROM customers), b AS (SELECT s AS t FROM a) SELECT t FROM b',
      ),
    ).toEqual([col('customers.ssn')]);
    expect(
      outputs('SELECT y FROM (SELECT x AS y FROM (SELECT ssn AS x FROM customers) a) b'),
    ).toEqual([col('customers.ssn')]);
  });

  it('derived table column aliases rename positionally', () => {
    expect(outputs('SELECT b, a FROM (SELECT ssn, name FROM customers) s(a, b)')).toEqual([
      col('customers.name'),
      col('customers.ssn'),
    ]);
  });

  it('a column of a derived star is that table column', () => {
    expect(outputs('SELECT s.ssn FROM (SELECT * FROM customers) s')).toEqual([
      col('customers.ssn'),
    ]);
  });

  it('a DML CTE passes its RETURNING lineage', () => {
    expect(outputs('WITH d AS (DELETE FROM customers RETURNING ssn) SELECT * FROM d')).toEqual([
      col('customers.ssn'),
    ]);
  });

  it('a view is treated as a table', () => {
    expect(outputs('SELECT ssn FROM customer_view')).toEqual([col('customer_view.ssn')]);
  });
});

describe('lineage of set operations', () => {
  it('UNION unites both sides position by position', () => {
    expect(outputs('SELECT id, name FROM customers UNION SELECT id, ssn FROM customers')).toEqual([
      der('customers.id'),
      der('customers.name', 'customers.ssn'),
    ]);
  });

  it('INTERSECT and EXCEPT too, with the masked column at one position only', () => {
    expect(outputs('SELECT name, 1 FROM staff INTERSECT SELECT ssn, 2 FROM customers')).toEqual([
      der('customers.ssn', 'staff.name'),
      der(),
    ]);
    expect(
      outputs('SELECT 1, name FROM staff EXCEPT ALL SELECT 2, upper(ssn) FROM customers'),
    ).toEqual([der(), der('customers.ssn', 'staff.name')]);
  });

  it('three branches', () => {
    const sql = 'SELECT a FROM t1 UNION SELECT b FROM t2 UNION ALL SELECT c FROM t3';
    expect(outputs(sql)).toEqual([der('t1.a', 't2.b', 't3.c')]);
  });

  it('a star on either side makes that position and every later one opaque', () => {
    expect(outputs('SELECT 1, ssn FROM customers UNION SELECT * FROM staff')).toEqual([OPAQUE]);
    expect(outputs('SELECT id, * FROM customers UNION SELECT id, * FROM staff')).toEqual([
      der('customers.id', 'staff.id'),
      OPAQUE,
    ]);
  });

  it('an opaque side makes its position opaque', () => {
    expect(outputs('SELECT id FROM customers UNION SELECT g FROM generate_series(1, 3) g')).toEqual(
      [OPAQUE],
    );
  });

  it('a set operation inside a derived table', () => {
    const sql = 'SELECT u FROM (SELECT ssn AS u FROM customers UNION SELECT name FROM staff) s';
    expect(outputs(sql)).toEqual([der('customers.ssn', 'staff.name')]);
  });
});

describe('lineage that cannot be established', () => {
  it('LATERAL subquery columns are opaque', () => {
    expect(outputs('SELECT c.id, l.x FROM customers c, LATERAL (SELECT c.ssn AS x) l')).toEqual([
      col('customers.id'),
      OPAQUE,
    ]);
  });

  it('function-returning-table columns are opaque', () => {
    expect(outputs('SELECT u FROM customers c, unnest(ARRAY[c.ssn]) u')).toEqual([OPAQUE]);
    expect(outputs('SELECT x.* FROM customers c, jsonb_to_record(c.doc) x(a int)')).toEqual([
      OPAQUE,
    ]);
    expect(outputs('SELECT i, c.name FROM customers c, generate_series(1, 3) AS g(i)')).toEqual([
      OPAQUE,
      col('customers.name'),
    ]);
  });

  it('an unqualified name that a function in FROM may also yield is opaque', () => {
    expect(outputs('SELECT name FROM customers, some_function() f')).toEqual([OPAQUE]);
    expect(outputs('SELECT name FROM customers, generate_series(1, 3) AS g(i)')).toEqual([
      col('customers.name'),
    ]);
  });

  it('a star over a function is opaque', () => {
    expect(outputs("SELECT * FROM pg_ls_dir('.')")).toEqual([OPAQUE]);
  });

  it('recursive CTE outputs from the recursive part are opaque', () => {
    const sql =
      'WITH RECURSIVE r(n, s) AS (SELECT 1, ssn FROM customers UNION ALL SELECT n + 1, s FROM r WHERE n < 3) SELECT n, s FROM r';
    expect(outputs(sql)).toEqual([OPAQUE, OPAQUE]);
    const constant =
      'WITH RECURSIVE r(n, k) AS (SELECT 1, 1 UNION ALL SELECT n + 1, 2 FROM r WHERE n < 3) SELECT k FROM r';
    expect(outputs(constant)).toEqual([der()]);
  });
});

describe('lineage of VALUES', () => {
  it('constants only', () => {
    expect(outputs("VALUES (1, 'a'), (2, 'b')")).toEqual([der(), der()]);
  });

  it('a value that reads a column depends on it', () => {
    expect(outputs('VALUES ((SELECT ssn FROM customers LIMIT 1))')).toEqual([der('customers.ssn')]);
    expect(outputs('SELECT column1 FROM (VALUES (1)) v')).toEqual([der()]);
  });

  it('a star over VALUES', () => {
    expect(outputs('SELECT * FROM (VALUES (1, 2)) v(a, b), customers')).toEqual([
      der(),
      der(),
      star('customers'),
    ]);
  });
});
