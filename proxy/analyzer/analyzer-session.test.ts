// Statements about session state (prepared statements, cursors, DISCARD, transactions) and the
// utility and DDL statements: their command tags, flags, objects and effects.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Analyzer, createAnalyzer, loadAnalyzer } from './analyzer.js';
import { FactsBuilder, type Walker } from './builder.js';
import type {
  AnalyzeContext,
  AnalyzedStatement,
  Effect,
  StatementFacts,
  StoredQuery,
} from './facts.js';
import { walkQuery, walkStatement } from './walk-statement.js';

let analyzer: Analyzer;

beforeAll(async () => {
  await loadAnalyzer();
  analyzer = createAnalyzer();
});

function ctx(over: Partial<AnalyzeContext> = {}): AnalyzeContext {
  return { searchPath: ['public'], prepared: () => undefined, cursors: () => undefined, ...over };
}

function all(sql: string, c: AnalyzeContext = ctx()): AnalyzedStatement[] {
  return analyzer.analyze(sql, c).statements;
}

function first(sql: string, c: AnalyzeContext = ctx()): AnalyzedStatement {
  const s = all(sql, c);
  expect(s).toHaveLength(1);
  return s[0]!;
}

function one(sql: string, c?: AnalyzeContext): StatementFacts {
  return first(sql, c).facts;
}

/** What the session keeps of a prepared statement or cursor (outputs do not matter here). */
function stored_(facts: StatementFacts): StoredQuery {
  return { facts, outputs: null };
}

describe('prepared statements', () => {
  it('PREPARE yields the inner facts and a Prepare effect holding them', () => {
    const s = first('PREPARE q(int) AS SELECT ssn FROM customers WHERE id = $1');
    expect(s.facts.command).toBe('PREPARE');
    expect(s.facts.flags).toEqual(['prepare']);
    expect(s.facts.reads).toEqual([
      { schema: 'public', table: 'customers', columns: ['id', 'ssn'] },
    ]);
    const e = s.effects[0] as Extract<Effect, { type: 'Prepare' }>;
    expect(e.type).toBe('Prepare');
    expect(e.name).toBe('q');
    expect(e.facts.command).toBe('SELECT');
    expect(e.facts.flags).toEqual([]);
    expect(e.facts.reads).toEqual(s.facts.reads);
  });

  it('EXECUTE takes the facts of a statement the session tracks', () => {
    const stored = one('DELETE FROM customers WHERE id = $1');
    const f = one(
      'EXECUTE q(42)',
      ctx({ prepared: (n) => (n === 'q' ? stored_(stored) : undefined) }),
    );
    expect(f.command).toBe('EXECUTE');
    expect(f.flags).toEqual(['execute']);
    expect(f.writes).toEqual(stored.writes);
    expect(f.sha256).not.toBe(stored.sha256);
  });

  it('CREATE TABLE AS EXECUTE takes the prepared facts', () => {
    const stored = one('SELECT ssn FROM customers');
    const f = one('CREATE TABLE loot AS EXECUTE q', ctx({ prepared: () => stored_(stored) }));
    expect(f.flags).toEqual(['create_table_as', 'ddl', 'execute']);
    expect(f.reads).toEqual(stored.reads);
    expect(one('CREATE TABLE loot AS EXECUTE q').flags).toContain('unknown_node');
  });

  it('EXECUTE of an unknown name fails closed', () => {
    expect(one('EXECUTE nope')).toMatchObject({ command: 'UNKNOWN', flags: ['unknown_node'] });
  });

  it('EXECUTE parameters are expressions too', () => {
    const stored = one('SELECT $1');
    const f = one(
      "EXECUTE q(pg_read_file('/etc/passwd'))",
      ctx({ prepared: () => stored_(stored) }),
    );
    expect(f.flags).toEqual(['execute', 'file_function']);
  });

  it('DEALLOCATE one or all', () => {
    const one_ = first('DEALLOCATE q');
    expect(one_.facts.flags).toEqual(['deallocate']);
    expect(one_.effects).toEqual([{ type: 'Deallocate', name: 'q', all: false }]);
    expect(first('DEALLOCATE ALL').effects).toEqual([
      { type: 'Deallocate', name: null, all: true },
    ]);
    const stored = one('SELECT 1');
    const s = all('DEALLOCATE ALL; EXECUTE q', ctx({ prepared: () => stored_(stored) }));
    expect(s[1]?.facts.command).toBe('UNKNOWN');
  });
});

describe('cursors', () => {
  it('DECLARE yields the query facts and a DeclareCursor effect', () => {
    const s = first('DECLARE c CURSOR WITH HOLD FOR SELECT ssn FROM customers');
    expect(s.facts.command).toBe('DECLARE CURSOR');
    expect(s.facts.flags).toEqual(['cursor']);
    expect(s.effects[0]).toMatchObject({ type: 'DeclareCursor', name: 'c' });
  });

  it('FETCH and MOVE take the cursor query facts', () => {
    const stored = one('SELECT ssn FROM customers');
    const c = ctx({ cursors: (n) => (n === 'c' ? stored_(stored) : undefined) });
    expect(one('FETCH 10 FROM c', c)).toMatchObject({
      command: 'FETCH',
      flags: ['cursor'],
      reads: stored.reads,
    });
    expect(one('MOVE LAST IN c', c).command).toBe('MOVE');
    expect(one('FETCH ALL FROM other', c)).toMatchObject({
      command: 'UNKNOWN',
      flags: ['unknown_node'],
    });
  });

  it('DECLARE then FETCH in one string', () => {
    const s = all(
      'DECLARE c CURSOR FOR SELECT ssn FROM customers; FETCH 1 FROM c; CLOSE c; FETCH 1 FROM c',
    );
    expect(s.map((x) => x.facts.command)).toEqual([
      'DECLARE CURSOR',
      'FETCH',
      'CLOSE CURSOR',
      'UNKNOWN',
    ]);
    expect(s[1]?.facts.reads[0]?.columns).toEqual(['ssn']);
  });

  it('CLOSE one or all', () => {
    expect(first('CLOSE c').effects).toEqual([{ type: 'CloseCursor', name: 'c', all: false }]);
    expect(first('CLOSE ALL').effects).toEqual([{ type: 'CloseCursor', name: null, all: true }]);
  });
});

describe('session and transaction statements', () => {
  it('DISCARD', () => {
    const s = first('DISCARD ALL');
    expect(s.facts.command).toBe('DISCARD ALL');
    expect(s.effects).toEqual([{ type: 'Discard', target: 'all' }]);
    expect(first('DISCARD TEMP').effects).toEqual([{ type: 'Discard', target: 'temp' }]);
  });

  it('fixed transaction statements skip the parser', () => {
    const fresh = createAnalyzer();
    const cases: [string, string, string][] = [
      ['BEGIN', 'BEGIN', 'BEGIN'],
      ['commit;', 'COMMIT', 'commit'],
      ['  End ; ', 'COMMIT', 'End'],
      ['ROLLBACK', 'ROLLBACK', 'ROLLBACK'],
      ['start\n transaction', 'START TRANSACTION', 'start\n transaction'],
    ];
    for (const [sql, command, text] of cases) {
      const s = fresh.analyze(sql, ctx()).statements;
      expect(s).toHaveLength(1);
      expect(s[0]?.facts).toMatchObject({
        command,
        flags: ['transaction_control'],
        index: 0,
        count: 1,
      });
      expect(s[0]?.text).toBe(text);
      // The same fingerprint as the statement gets through the parser (followed by another).
      const parsed = all(`${text}; SELECT 1`)[0]?.facts.fingerprint;
      expect(parsed).toMatch(/^[0-9a-f]{16}$/);
      expect(s[0]?.facts.fingerprint).toBe(parsed);
    }
    expect(fresh.stats()).toMatchObject({ hits: 0, misses: 0 });
  });

  it('other transaction statements go through the parser', () => {
    expect(one('BEGIN ISOLATION LEVEL SERIALIZABLE')).toMatchObject({
      command: 'BEGIN',
      flags: ['transaction_control'],
    });
    expect(one('SAVEPOINT s1').command).toBe('SAVEPOINT');
    expect(one('ROLLBACK TO SAVEPOINT s1').command).toBe('ROLLBACK');
    expect(one("PREPARE TRANSACTION 'x'").command).toBe('PREPARE TRANSACTION');
  });

  it('SHOW names the setting', () => {
    expect(one('SHOW search_path')).toMatchObject({
      command: 'SHOW',
      flags: [],
      objects: [{ kind: 'setting', name: 'search_path' }],
    });
  });
});

describe('utility statements', () => {
  it('CALL', () => {
    expect(one('CALL app.refresh(1)')).toMatchObject({
      command: 'CALL',
      flags: ['call'],
      functions: ['app.refresh'],
    });
  });

  it('LISTEN, NOTIFY, UNLISTEN', () => {
    expect(one('LISTEN jobs')).toMatchObject({
      command: 'LISTEN',
      flags: ['listen_notify'],
      objects: [{ kind: 'channel', name: 'jobs' }],
    });
    expect(one("NOTIFY jobs, 'x'").command).toBe('NOTIFY');
    expect(one('UNLISTEN *').objects).toEqual([{ kind: 'channel', name: '*' }]);
  });

  it('VACUUM, ANALYZE and other maintenance', () => {
    expect(one('VACUUM (ANALYZE) customers')).toMatchObject({
      command: 'VACUUM',
      flags: ['maintenance'],
      objects: [{ kind: 'table', name: 'public.customers' }],
    });
    expect(one('ANALYZE customers').command).toBe('ANALYZE');
    expect(one('REFRESH MATERIALIZED VIEW mv').flags).toEqual(['maintenance']);
    expect(one('CHECKPOINT').command).toBe('CHECKPOINT');
  });

  it('GRANT and REVOKE', () => {
    expect(one('GRANT SELECT ON customers TO bob')).toMatchObject({
      command: 'GRANT',
      flags: ['grant_revoke'],
      objects: [
        { kind: 'table', name: 'public.customers' },
        { kind: 'role', name: 'bob' },
      ],
    });
    expect(one('REVOKE ALL ON ALL TABLES IN SCHEMA app FROM PUBLIC').command).toBe('REVOKE');
    expect(one('GRANT admin TO bob')).toMatchObject({
      command: 'GRANT ROLE',
      flags: ['grant_revoke'],
    });
  });

  it('TRUNCATE writes every table it names', () => {
    expect(one('TRUNCATE a, app.b').writes).toEqual([
      { schema: 'public', table: 'a', action: 'truncate', has_where: false },
      { schema: 'app', table: 'b', action: 'truncate', has_where: false },
    ]);
  });

  it('LOCK', () => {
    expect(one('LOCK TABLE customers IN ACCESS EXCLUSIVE MODE')).toMatchObject({
      command: 'LOCK TABLE',
      flags: ['locking_clause'],
    });
  });

  it('ALTER SYSTEM and LOAD', () => {
    expect(one("ALTER SYSTEM SET archive_command = 'curl evil'")).toMatchObject({
      command: 'ALTER SYSTEM',
      flags: ['alter_system'],
      settings: [{ name: 'archive_command', value: 'curl evil', local: false }],
    });
    expect(one("LOAD 'evil.so'")).toMatchObject({ command: 'LOAD', flags: ['server_function'] });
  });
});

describe('DDL', () => {
  it('CREATE, ALTER and DROP TABLE', () => {
    expect(
      one('CREATE TABLE app.t (id int PRIMARY KEY, c text REFERENCES other(x))'),
    ).toMatchObject({
      command: 'CREATE TABLE',
      flags: ['ddl'],
      objects: [
        { kind: 'relation', name: 'app.t' },
        { kind: 'relation', name: 'public.other' },
      ],
    });
    expect(one('ALTER TABLE t ADD COLUMN x int').command).toBe('ALTER TABLE');
    expect(one('DROP TABLE a, b.c CASCADE')).toMatchObject({
      command: 'DROP TABLE',
      objects: [
        { kind: 'table', name: 'public.a' },
        { kind: 'table', name: 'b.c' },
      ],
    });
    expect(one('DROP MATERIALIZED VIEW mv').command).toBe('DROP MATERIALIZED VIEW');
  });

  it('views read what their query reads', () => {
    expect(one('CREATE VIEW v AS SELECT ssn FROM customers')).toMatchObject({
      command: 'CREATE VIEW',
      reads: [{ schema: 'public', table: 'customers', columns: ['ssn'] }],
    });
  });

  it('functions, roles, schemas, extensions', () => {
    expect(
      one('CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END'),
    ).toMatchObject({
      command: 'CREATE FUNCTION',
      objects: [{ kind: 'function', name: 'public.f' }],
    });
    expect(one("CREATE ROLE eve SUPERUSER PASSWORD 'x'")).toMatchObject({
      command: 'CREATE ROLE',
      objects: [{ kind: 'role', name: 'eve' }],
    });
    expect(one('CREATE SCHEMA s').objects).toEqual([{ kind: 'schema', name: 's' }]);
    expect(one('CREATE EXTENSION dblink').objects).toEqual([{ kind: 'extension', name: 'dblink' }]);
    expect(one('ALTER ROLE bob SET search_path = evil').settings).toEqual([
      { name: 'search_path', value: 'evil', local: false },
    ]);
  });
});

describe('fail closed', () => {
  function walker(): Walker {
    return {
      b: new FactsBuilder(),
      path: ['public'],
      maxDepth: 100,
      prepared: () => undefined,
      cursors: () => undefined,
      query: walkQuery,
      statement: walkStatement,
    };
  }

  it('an unknown statement node is UNKNOWN with unknown_node', () => {
    const w = walker();
    expect(walkStatement(w, { FutureStmt: {} }, 0)).toBe('UNKNOWN');
    expect(w.b.build('UNKNOWN').flags).toEqual(['unknown_node']);
  });

  it('an unknown expression node is flagged', () => {
    const w = walker();
    const node = {
      SelectStmt: {
        targetList: [{ ResTarget: { val: { FutureExpr: { arg: {} } } } }],
        op: 'SETOP_NONE',
      },
    };
    expect(walkStatement(w, node, 0)).toBe('SELECT');
    expect(w.b.build('SELECT').flags).toEqual(['unknown_node']);
  });

  it('an unknown FROM item is flagged', () => {
    const w = walker();
    walkStatement(w, { SelectStmt: { fromClause: [{ RangeFuture: {} }], op: 'SETOP_NONE' } }, 0);
    expect(w.b.build('SELECT').flags).toEqual(['unknown_node']);
  });
});
