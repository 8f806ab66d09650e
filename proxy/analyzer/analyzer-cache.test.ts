// The literal-free cache: variants that differ only in literals hit; anything whose facts could
// depend on a literal, or on the search_path, misses; the cache is bounded; options are checked.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { PgwardError } from '../../lib/errors.js';
import { createAnalyzer, loadAnalyzer } from './analyzer.js';
import type { AnalyzeContext, StatementFacts } from './facts.js';
import { withEstimate } from './statement-facts.js';

beforeAll(async () => {
  await loadAnalyzer();
});

function ctx(searchPath: readonly string[] = ['public']): AnalyzeContext {
  return { searchPath, prepared: () => undefined, cursors: () => undefined };
}

/** Everything but the per-text fields. */
function shape(f: StatementFacts | undefined): unknown {
  if (f === undefined) return undefined;
  const { sha256: _s, index: _i, count: _c, ...rest } = f;
  return rest;
}

describe('analyzer cache', () => {
  it('literal variants hit and keep their own text, sha256 and normalized form', () => {
    const a = createAnalyzer();
    const first = a.analyze("SELECT email FROM customers WHERE id = 1 AND name = 'x'", ctx())
      .statements[0]!;
    const second = a.analyze(
      "SELECT email FROM customers WHERE id = 2 AND name = 'it''s; y'",
      ctx(),
    ).statements[0]!;
    expect(a.stats()).toEqual({ hits: 1, misses: 1, size: 1 });
    expect(shape(second.facts)).toEqual(shape(first.facts));
    expect(second.text).toBe("SELECT email FROM customers WHERE id = 2 AND name = 'it''s; y'");
    expect(second.facts.sha256).not.toBe(first.facts.sha256);
    expect(second.normalized).toBe('SELECT email FROM customers WHERE id = $1 AND name = $2');
  });

  it("a hit's facts read and serialize exactly as a fresh analysis of the same text", () => {
    const warm = createAnalyzer();
    warm.analyze('SELECT abalance FROM pgbench_accounts WHERE aid = 1', ctx());
    const sql = 'SELECT abalance FROM pgbench_accounts WHERE aid = 42';
    const hit = warm.analyze(sql, ctx()).statements[0]!;
    expect(warm.stats().hits).toBe(1);
    const fresh = createAnalyzer().analyze(sql, ctx()).statements[0]!;
    expect(hit.facts.sha256).toBe(fresh.facts.sha256);
    expect(hit.facts.sha256).toBe(createHash('sha256').update(sql).digest('hex'));
    // The policy input is the JSON text: the same bytes, key for key.
    expect(JSON.stringify(hit.facts)).toBe(JSON.stringify(fresh.facts));
    expect(Object.isFrozen(hit.facts)).toBe(true);
    expect(hit.cacheKey).toBe(fresh.cacheKey);
    // A row estimate keeps every fact, the digest included.
    const estimated = withEstimate(hit.facts, 12);
    expect(estimated).toEqual({ ...JSON.parse(JSON.stringify(fresh.facts)), estimated_rows: 12 });
    expect(Object.isFrozen(estimated)).toBe(true);
  });

  it('hits across comments and whitespace, and for multi-statement strings', () => {
    const a = createAnalyzer();
    a.analyze('SELECT 1 FROM t; DELETE FROM t WHERE id = 1', ctx());
    const sql = "SELECT 7 /* traceparent='00-ab' */ FROM t;\tDELETE FROM t WHERE id = 99";
    const s = a.analyze(sql, ctx()).statements;
    expect(a.stats().hits).toBe(1);
    expect(s.map((x) => [x.text, x.facts.index, x.facts.count])).toEqual([
      ["SELECT 7 /* traceparent='00-ab' */ FROM t", 0, 2],
      ['DELETE FROM t WHERE id = 99', 1, 2],
    ]);
  });

  it('never confuses identifiers with literals', () => {
    const a = createAnalyzer();
    const col = a.analyze('SELECT "ssn" FROM customers', ctx()).statements[0]!.facts;
    const lit = a.analyze("SELECT 'ssn' FROM customers", ctx()).statements[0]!.facts;
    expect(col.reads[0]?.columns).toEqual(['ssn']);
    expect(lit.reads[0]?.columns).toEqual([]);
    const t1 = a.analyze('SELECT * FROM t1', ctx()).statements[0]!.facts;
    const t2 = a.analyze('SELECT * FROM t2', ctx()).statements[0]!.facts;
    expect([t1.reads[0]?.table, t2.reads[0]?.table]).toEqual(['t1', 't2']);
    expect(a.stats().hits).toBe(0);
  });

  it('SET with different values misses (never cached)', () => {
    const a = createAnalyzer();
    const x = a.analyze("SET statement_timeout = '1s'", ctx()).statements[0]!.facts;
    const y = a.analyze("SET statement_timeout = '2s'", ctx()).statements[0]!.facts;
    expect(x.settings?.[0]?.value).toBe('1s');
    expect(y.settings?.[0]?.value).toBe('2s');
    expect(a.stats()).toEqual({ hits: 0, misses: 2, size: 0 });
  });

  it('set_config, file functions, COPY, EXPLAIN, PREPARE/EXECUTE are never cached', () => {
    const a = createAnalyzer();
    const pairs = [
      [
        "SELECT set_config('search_path', 'a', false)",
        "SELECT set_config('search_path', 'b', false)",
      ],
      ["SELECT pg_read_file('/a')", "SELECT pg_read_file('/b')"],
      ["COPY t FROM '/a'", "COPY t FROM '/b'"],
      ['EXPLAIN (ANALYZE 0) DELETE FROM t', 'EXPLAIN (ANALYZE 1) DELETE FROM t'],
      ['PREPARE p AS SELECT 1', 'PREPARE p AS SELECT 2'],
    ];
    for (const [x, y] of pairs) {
      a.analyze(x!, ctx());
      a.analyze(y!, ctx());
    }
    expect(a.stats()).toEqual({ hits: 0, misses: 10, size: 0 });
    const explain = a.analyze('EXPLAIN (ANALYZE 1) DELETE FROM t', ctx()).statements[0]!.facts;
    expect(explain.flags).toContain('explain_analyze');
  });

  it('a search_path change misses and resolves anew', () => {
    const a = createAnalyzer();
    const pub = a.analyze('SELECT * FROM customers WHERE id = 1', ctx(['public'])).statements[0]!
      .facts;
    const evil = a.analyze('SELECT * FROM customers WHERE id = 1', ctx(['evil'])).statements[0]!
      .facts;
    expect(pub.reads[0]?.schema).toBe('public');
    expect(evil.reads[0]?.schema).toBe('evil');
    expect(a.stats()).toEqual({ hits: 0, misses: 2, size: 2 });
  });

  it('is bounded (LRU) and can be disabled', () => {
    const a = createAnalyzer({ cacheSize: 2 });
    for (const t of ['a', 'b', 'c']) a.analyze(`SELECT * FROM ${t}`, ctx());
    expect(a.stats().size).toBe(2);
    a.analyze('SELECT * FROM a', ctx());
    expect(a.stats().hits).toBe(0);
    a.analyze('SELECT * FROM c', ctx());
    expect(a.stats().hits).toBe(1);
    const off = createAnalyzer({ cacheSize: 0 });
    off.analyze('SELECT 1', ctx());
    off.analyze('SELECT 2', ctx());
    expect(off.stats()).toEqual({ hits: 0, misses: 2, size: 0 });
  });

  it('hands out frozen facts', () => {
    const a = createAnalyzer();
    a.analyze('SELECT id FROM t', ctx());
    const f = a.analyze('SELECT id FROM t', ctx()).statements[0]!.facts;
    expect(Object.isFrozen(f)).toBe(true);
    expect(Object.isFrozen(f.reads)).toBe(true);
    expect(Object.isFrozen(f.reads[0]?.columns)).toBe(true);
  });

  it('gives each reusable statement a cacheKey that ignores literals but not the search_path', () => {
    const a = createAnalyzer({ cacheSize: 0 });
    const key = (sql: string, path?: readonly string[]) =>
      a.analyze(sql, ctx(path)).statements.map((s) => s.cacheKey);
    const [k1] = key('SELECT * FROM t WHERE id = 1');
    expect(k1).toEqual(expect.any(String));
    expect(key('SELECT * FROM t WHERE id = 2 /* x */')).toEqual([k1]);
    expect(key('SELECT * FROM t WHERE id = 1', ['app'])).not.toEqual([k1]);
    expect(key("SET work_mem = '1MB'")).toEqual([null]);
    expect(key("SELECT pg_read_file('x')")).toEqual([null]);
    expect(key('SELECT (')).toEqual([null]);
    const [set, sel] = key('SET search_path = app; SELECT * FROM t WHERE id = 3');
    expect(set).toBeNull();
    expect(sel).toBe(key('SELECT * FROM t WHERE id = 4', ['app'])[0]);
    expect(key('BEGIN')).toEqual(key('begin;'));
  });

  it('validates its options at run time', () => {
    for (const bad of [{ cacheSize: -1 }, { cacheSize: 1.5 }, { maxDepth: 0 }, { maxDepth: 1e9 }]) {
      expect(() => createAnalyzer(bad)).toThrow(PgwardError);
    }
  });
});
