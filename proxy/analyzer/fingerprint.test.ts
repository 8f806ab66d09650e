// The statement fingerprint over the real parser's trees: one shape, one fingerprint (literals,
// parameters, layout, case, list lengths, generated names); anything else tells statements apart.
import { parseSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Analyzer, createAnalyzer, loadAnalyzer } from './analyzer.js';
import { FINGERPRINT_MAX_DEPTH, treeFingerprint } from './fingerprint.js';

let analyzer: Analyzer;

beforeAll(async () => {
  await loadAnalyzer();
  // Uncached: every fingerprint below comes from a parse tree, none from a cache entry.
  analyzer = createAnalyzer({ cacheSize: 0 });
});

function fp(sql: string): string {
  const s = analyzer.analyze(sql, {
    searchPath: ['public'],
    prepared: () => undefined,
    cursors: () => undefined,
  }).statements;
  expect(s).toHaveLength(1);
  return s[0]?.facts.fingerprint ?? '';
}

describe('statement fingerprint', () => {
  it('is 16 hex digits, the same for the same text every time', () => {
    const sql = 'SELECT id, email FROM customers WHERE id = 1';
    expect(fp(sql)).toMatch(/^[0-9a-f]{16}$/);
    expect(fp(sql)).toBe(fp(sql));
  });

  it.each([
    ['literal values', 'SELECT a FROM t WHERE x = 1', "SELECT a FROM t WHERE x = 'it''s'"],
    ['NULL and a parameter', 'SELECT a FROM t WHERE x = NULL', 'SELECT a FROM t WHERE x = $1'],
    ['negative numbers', 'SELECT a FROM t WHERE x = -1', 'SELECT a FROM t WHERE x = 2.5'],
    [
      'layout, comments and the case of keywords and unquoted names',
      'select a from t where x=1',
      'SELECT  A /* note */ FROM T -- more\n WHERE X = 7;',
    ],
    [
      'the length of an IN list',
      'SELECT a FROM t WHERE x IN (1, 2, 3)',
      'SELECT a FROM t WHERE x IN ($1)',
    ],
    [
      'the number of like VALUES rows',
      "INSERT INTO t (a, b) VALUES (1, 'a'), (2, 'b'), ($1, $2)",
      "INSERT INTO t (a, b) VALUES (3, 'c')",
    ],
    [
      'the length of an ARRAY',
      'SELECT a FROM t WHERE x = ANY (ARRAY[1, 2])',
      'SELECT a FROM t WHERE x = ANY (ARRAY[3])',
    ],
    ['prepared statement names', 'PREPARE p1 AS SELECT a FROM t', 'PREPARE p2 AS SELECT a FROM t'],
    ['EXECUTE names and arguments', 'EXECUTE p1(1)', 'EXECUTE p2(2)'],
    [
      'cursor names',
      'DECLARE c1 CURSOR FOR SELECT a FROM t',
      'DECLARE c2 CURSOR FOR SELECT a FROM t',
    ],
    ['FETCH cursor names', 'FETCH 10 FROM c1', 'FETCH 10 FROM c2'],
    ['savepoint names', 'SAVEPOINT s1', 'SAVEPOINT s2'],
    ['setting values', 'SET work_mem = 1024', "SET work_mem = '64MB'"],
    ['numbers that are not constants', 'SELECT x::int[3] FROM t', 'SELECT x::int[5] FROM t'],
  ])('ignores %s', (_what, a, b) => {
    expect(fp(a)).toBe(fp(b));
  });

  it.each([
    ['tables', 'SELECT a FROM t', 'SELECT a FROM u'],
    ['schemas', 'SELECT a FROM s.t', 'SELECT a FROM t'],
    ['columns', 'SELECT a FROM t', 'SELECT b FROM t'],
    ['quoted and unquoted names', 'SELECT a FROM "T"', 'SELECT a FROM T'],
    ['split identifiers', 'SELECT "ab", "c" FROM t', 'SELECT "a", "bc" FROM t'],
    ['non-ASCII identifiers', 'SELECT "é" FROM t', 'SELECT "è" FROM t'],
    ['operators', 'SELECT a FROM t WHERE x = 1', 'SELECT a FROM t WHERE x < 1'],
    ['AND and OR', 'SELECT a FROM t WHERE x = 1 AND y = 2', 'SELECT a FROM t WHERE x = 1 OR y = 2'],
    ['IN and NOT IN', 'SELECT a FROM t WHERE x IN (1)', 'SELECT a FROM t WHERE x NOT IN (1)'],
    [
      'IN list items of another kind',
      'SELECT a FROM t WHERE x IN (1, y)',
      'SELECT a FROM t WHERE x IN (1)',
    ],
    ['output aliases', 'SELECT a AS x FROM t', 'SELECT a AS y FROM t'],
    ['table aliases', 'SELECT r.a FROM t r', 'SELECT s.a FROM t s'],
    ['argument order', 'SELECT f(a, b) FROM t', 'SELECT f(b, a) FROM t'],
    ['target order', 'SELECT a, b FROM t', 'SELECT b, a FROM t'],
    ['a repeated target', 'SELECT a, a FROM t', 'SELECT a FROM t'],
    ['VALUES row width', 'INSERT INTO t VALUES (1, 2)', 'INSERT INTO t VALUES (1)'],
    ['a LIMIT', 'SELECT a FROM t LIMIT 1', 'SELECT a FROM t'],
    ['FETCH counts', 'FETCH 10 FROM c1', 'FETCH 20 FROM c1'],
    ['statement kinds', 'DELETE FROM t WHERE x = 1', 'SELECT FROM t WHERE x = 1'],
    ['COPY files', "COPY t TO '/tmp/a'", "COPY t TO '/tmp/b'"],
  ])('tells apart %s', (_what, a, b) => {
    expect(fp(a)).not.toBe(fp(b));
  });

  it('is the statement’s own: the same alone and inside a multi-statement string', () => {
    const s = analyzer.analyze('SELECT 1; DELETE FROM t WHERE x = 5', {
      searchPath: ['public'],
      prepared: () => undefined,
      cursors: () => undefined,
    }).statements;
    expect(s[1]?.facts.fingerprint).toBe(fp('DELETE FROM t WHERE x = 9'));
    expect(s[0]?.facts.fingerprint).not.toBe(s[1]?.facts.fingerprint);
  });

  it('is the same whether the literal-free cache served the statement or not', () => {
    const cached = createAnalyzer();
    const c = { searchPath: ['public'], prepared: () => undefined, cursors: () => undefined };
    const variants = [
      "SELECT x::int[3], f(1.5) FROM t WHERE y IN (1, 2) AND z = 'a' LIMIT 10",
      "SELECT x::int[4], f(2.5) FROM t WHERE y IN (3, 4) AND z = 'b' LIMIT 20",
    ];
    for (const sql of variants) {
      expect(cached.analyze(sql, c).statements[0]?.facts.fingerprint).toBe(fp(sql));
    }
    expect(cached.stats()).toMatchObject({ hits: 1, misses: 1 });
  });

  it('is empty for a statement that does not parse', () => {
    expect(fp('SELEC a FROM t')).toBe('');
  });

  it('is empty, without throwing, for a tree nested deeper than the bound', () => {
    const tree = parseSync('SELECT a FROM t').stmts?.[0]?.stmt;
    let deep: unknown = tree;
    for (let i = 0; i < FINGERPRINT_MAX_DEPTH; i++) deep = { A_Indirection: { arg: deep } };
    expect(treeFingerprint(tree)).toMatch(/^[0-9a-f]{16}$/);
    expect(treeFingerprint(deep)).toBe('');
    // The bound is reset for the next statement.
    expect(treeFingerprint(tree)).toBe(treeFingerprint(tree));
  });

  it('is unchanged by a statement that grew the buffer past its kept size', () => {
    const tree = parseSync('SELECT a FROM t WHERE x = 1').stmts?.[0]?.stmt;
    const before = treeFingerprint(tree);
    const ids = Array.from({ length: 60_000 }, (_, i) => `c${i}`).join(', ');
    expect(treeFingerprint(parseSync(`SELECT ${ids} FROM t`).stmts?.[0]?.stmt)).toMatch(
      /^[0-9a-f]{16}$/,
    );
    expect(treeFingerprint(tree)).toBe(before);
  });
});
