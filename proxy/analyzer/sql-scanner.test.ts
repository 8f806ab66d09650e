// The hot-path lexer: literal and comment forms, statement splitting, normalized text, and a
// property test that replacing literals never changes the statement count.
import fc from 'fast-check';
import { parseSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAnalyzer } from './analyzer.js';
import { normalizeSegment, scanSql } from './sql-scanner.js';

beforeAll(async () => {
  await loadAnalyzer();
});

function texts(sql: string): string[] {
  return scanSql(sql).segments.map((s) => sql.slice(s.start, s.end));
}

function normalized(sql: string): string[] {
  return scanSql(sql).segments.map((s) => normalizeSegment(sql, s));
}

describe('scanSql: statement splitting', () => {
  it('splits at top-level semicolons and trims each statement', () => {
    expect(texts('  SELECT 1 ;  SELECT 2;')).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('skips empty and comment-only statements', () => {
    expect(texts(';; -- nothing\n; /* still nothing */ ;')).toEqual([]);
    expect(texts('')).toEqual([]);
  });

  it('keeps semicolons inside literals, quoted identifiers and comments', () => {
    const sql = `SELECT 'a;b', E'c\\';d', $$e;f$$, $t$ $$;$$ $t$, "g;""h", U&"i;", U&'j;' /* k; /* l; */ ; */ -- m;\n`;
    expect(texts(sql)).toHaveLength(1);
  });

  it('ends leading and trailing comments outside the statement text', () => {
    expect(texts('/* lead */ SELECT 1 -- trail\n; -- after')).toEqual(['SELECT 1']);
  });

  it('treats a backslash as an escape only in E strings', () => {
    // standard_conforming_strings = on: 'a\' is a whole literal, so the DELETE is a statement.
    expect(texts("SELECT 'a\\'; DELETE FROM t; --'")).toEqual(["SELECT 'a\\'", 'DELETE FROM t']);
    expect(texts("SELECT E'a\\'; DELETE FROM t; --'")).toHaveLength(1);
  });

  it('counts parenthesis depth', () => {
    expect(scanSql('SELECT ((1), (2))').maxParens).toBe(2);
  });
});

describe('scanSql: cache key', () => {
  it('is equal for texts that differ only in literals, comments and whitespace', () => {
    const a = scanSql("SELECT * FROM t WHERE id = 1 AND name = 'x' /* c */").key;
    const b = scanSql("SELECT *  FROM t\nWHERE id = 42.5e3 AND name = E'y\\'z'").key;
    expect(a).not.toBeNull();
    expect(a).toBe(b);
  });

  it('differs for different identifiers, quoted or not', () => {
    const keys = [
      'SELECT a FROM t1',
      'SELECT a FROM t2',
      'SELECT "a" FROM t1',
      "SELECT 'a' FROM t1",
    ].map((q) => scanSql(q).key);
    expect(new Set(keys).size).toBe(4);
  });

  it('gives each statement its own key', () => {
    const r = scanSql("  SELECT 'a' ;\n /* c */ DELETE FROM t WHERE x = 1 -- z\n");
    expect(r.segments.map((s) => s.key)).toEqual([
      'SELECT \u0001',
      'DELETE FROM t WHERE x = \u0002',
    ]);
    expect(scanSql("SELECT 'open").segments.map((s) => s.key)).toEqual([null]);
  });

  it('keeps parameters and dollar-containing identifiers verbatim', () => {
    expect(scanSql('SELECT $1, a$b$c FROM t').key).toBe('SELECT $1, a$b$c FROM t');
  });

  it('refuses to key texts with unterminated literals or marker characters', () => {
    expect(scanSql("SELECT 'open").key).toBeNull();
    expect(scanSql('SELECT $$open').key).toBeNull();
    expect(scanSql('SELECT 1 /* open').key).toBeNull();
    expect(scanSql('SELECT "open').key).toBeNull();
    expect(scanSql('SELECT \u0001').key).toBeNull();
  });
});

describe('normalizeSegment', () => {
  it('numbers literals after the highest parameter', () => {
    expect(normalized("SELECT $2, 'x', 3.5, B'01', X'ff' FROM t WHERE a = -1")).toEqual([
      'SELECT $2, $3, $4, $5, $6 FROM t WHERE a = -$7',
    ]);
  });

  it('replaces dollar-quoted bodies and prefixed strings', () => {
    expect(normalized("DO $body$ BEGIN PERFORM 1; END $body$; SELECT N'x', U&'\\0041'")).toEqual([
      'DO $1',
      'SELECT $1, $2',
    ]);
  });

  it('leaves identifiers with digits alone', () => {
    expect(normalized('SELECT t1.c2 FROM t1')).toEqual(['SELECT t1.c2 FROM t1']);
  });
});

const TOKENS = [
  'SELECT ',
  ' ',
  '\n',
  ';',
  ',',
  '1',
  '2.5',
  'x',
  't1',
  '(',
  ')',
  '+',
  "'a;b'",
  "''",
  "E'\\';'",
  "'it''s;'",
  '$$;$$',
  '$q$ $$ ; $q$',
  '"i;d"',
  '"a""b"',
  'U&"\\0041"',
  "U&'\\0041;'",
  "B'01'",
  "X'1F'",
  '-- c;\n',
  '/* c; /* n; */ ; */',
  '$1',
];

const sqlish = fc
  .array(fc.constantFrom(...TOKENS), { maxLength: 30 })
  .map((parts) => parts.join(''));

function parsedCount(sql: string): number | undefined {
  try {
    return (parseSync(sql).stmts ?? []).length;
  } catch {
    return undefined;
  }
}

describe('scanSql: properties', () => {
  it('never throws, and segments stay inside the text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), sqlish), (sql) => {
        const r = scanSql(sql);
        for (const s of r.segments) {
          expect(s.start).toBeGreaterThanOrEqual(0);
          expect(s.end).toBeLessThanOrEqual(sql.length);
          expect(s.start).toBeLessThanOrEqual(s.end);
          normalizeSegment(sql, s);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('finds the statements the parser finds, and its key keeps them', () => {
    fc.assert(
      fc.property(sqlish, (sql) => {
        const r = scanSql(sql);
        if (r.key !== null) expect(scanSql(r.key).segments.length).toBe(r.segments.length);
        const parsed = parsedCount(sql);
        if (parsed !== undefined) expect(r.segments.length).toBe(parsed);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the statement count of SQL-shaped input when literals are replaced', () => {
    const stmt = fc
      .array(fc.constantFrom("'x;y'", '$$a;b$$', '42', "E'\\';'", 'c', "'--'", "'/*'"), {
        minLength: 1,
        maxLength: 5,
      })
      .map((vals) => `SELECT ${vals.join(', ')}`);
    fc.assert(
      fc.property(fc.array(stmt, { minLength: 1, maxLength: 5 }), (stmts) => {
        const sql = stmts.join('; ');
        const r = scanSql(sql);
        expect(r.segments.length).toBe(stmts.length);
        expect(parsedCount(sql)).toBe(stmts.length);
        const norm = r.segments.map((s) => normalizeSegment(sql, s)).join('; ');
        expect(parsedCount(norm)).toBe(stmts.length);
      }),
      { numRuns: 500 },
    );
  });
});
