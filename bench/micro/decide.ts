// Micro-benchmark of the per-statement gate, in process: the real analyzer (libpg-query) and the real
// judge over the bench bundle's WASM evaluator, timed per statement (analyze + decide) for a short
// SELECT and a ~2 KB reporting query, uncached (caches off, every statement new) and cached (literal
// variants of one statement, caches at their config defaults). p50 / p99 in µs.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../lib/log.js';
import { createAnalyzer, loadAnalyzer } from '../../proxy/analyzer/analyzer.js';
import type { AnalyzeContext } from '../../proxy/analyzer/facts.js';
import type { Identity } from '../../proxy/auth/authenticator.js';
import { createJudge, type JudgeContext } from '../../proxy/decider/judge.js';
import { createPolicySource, loadEvaluator } from '../../proxy/decider/policy-runtime.js';
import { BENCH_USER } from '../policy.js';
import type { Figures } from '../report.js';

/** Where a policy micro-benchmark finds the repository, the bench bundle and the bench database. */
export interface BundleMicroOptions {
  readonly root: string;
  readonly bundleDir: string;
  readonly database: string;
}

export interface DecideMicroOptions extends BundleMicroOptions {
  /** Timed statements per scenario for the short SELECT; the 2 KB query runs a fifth as many. */
  readonly samples: number;
}

const ROUNDS = 5;
const MIN_WARMUP_BATCHES = 3;
const MAX_WARMUP_BATCHES = 20;
const SEARCH_PATH = ['public'];

/** pgbench -S's statement with a fresh account id. */
const shortSql = (n: number) =>
  `SELECT abalance FROM pgbench_accounts WHERE aid = ${1 + (n % 999_983)}`;

/** A reporting query over every pgbench table, ~2 KB: a CTE, joins, CASE arms, an IN list. */
function longSql(n: number): string {
  const ids = Array.from({ length: 64 }, (_, i) => 1 + ((n * 64 + i * 7) % 999_983)).join(', ');
  return `WITH recent AS (
  SELECT h.aid, h.tid, h.bid, sum(h.delta) AS moved, count(*) AS moves, max(h.mtime) AS last_seen
  FROM pgbench_history h
  WHERE h.mtime >= '2026-11-${String(1 + (n % 28)).padStart(2, '0')} 00:00:00' AND h.delta BETWEEN -${n % 5000} AND ${5000 + (n % 100)}
  GROUP BY h.aid, h.tid, h.bid
)
SELECT a.aid, a.bid, a.abalance, b.bbalance, t.tid, t.tbalance, r.moved, r.moves, r.last_seen,
  CASE WHEN a.abalance > ${1000 + (n % 7)} THEN 'high' WHEN a.abalance > 0 THEN 'positive'
       WHEN a.abalance = 0 THEN 'zero' ELSE 'negative' END AS band,
  coalesce(r.moved, 0) + a.abalance AS projected,
  round(a.abalance::numeric / greatest(abs(b.bbalance), 1), 4) AS branch_share,
  round(t.tbalance::numeric / greatest(abs(b.bbalance), 1), 4) AS teller_share,
  CASE WHEN r.moves IS NULL THEN 'idle' WHEN r.moves > ${3 + (n % 5)} THEN 'busy' ELSE 'active' END AS activity,
  date_trunc('day', r.last_seen) AS last_day,
  a.abalance - coalesce(r.moved, 0) AS opening_balance,
  length(a.filler) + length(b.filler) + length(t.filler) AS filler_width,
  upper(substr(a.filler, 1, ${4 + (n % 3)})) AS tag
FROM pgbench_accounts a
JOIN pgbench_branches b ON b.bid = a.bid
JOIN pgbench_tellers t ON t.bid = a.bid AND t.tid = ((a.aid - 1) % 10) + 1 + (a.bid - 1) * 10
LEFT JOIN recent r ON r.aid = a.aid AND r.bid = a.bid
WHERE a.aid IN (${ids})
  AND a.abalance BETWEEN -${100_000 + (n % 11)} AND ${100_000 + (n % 13)} AND b.bid BETWEEN 1 AND ${10 + (n % 5)}
  AND (r.moved IS NULL OR abs(r.moved) < ${250_000 + (n % 17)}) AND t.tbalance > -${1_000_000 + (n % 19)}
ORDER BY a.abalance DESC, a.aid
LIMIT ${50 + (n % 50)}`;
}

interface Scenario {
  readonly name: string;
  readonly sql: (n: number) => string;
  readonly cached: boolean;
  readonly samples: number;
}

/** The bench client as the gateway identifies it (a static user, `auth.users`). */
export const BENCH_IDENTITY: Identity = {
  sub: BENCH_USER.name,
  groups: BENCH_USER.groups,
  issuer: 'pgward:static',
  via: 'password',
  expiresAt: null,
};

/** The parser loaded, and the bench bundle served as the gateway serves it (config defaults). */
export async function loadBenchPolicy(o: BundleMicroOptions) {
  const defaults = await policyDefaults(o.root);
  await loadAnalyzer();
  const { evaluator } = await loadEvaluator(o.bundleDir, defaults.max_memory_pages, silentLogger);
  return { defaults, source: createPolicySource(evaluator) };
}

export async function runDecideMicro(o: DecideMicroOptions): Promise<Figures> {
  const { defaults, source } = await loadBenchPolicy(o);
  const gates = {
    uncached: {
      analyzer: createAnalyzer({ cacheSize: 0 }),
      judge: createJudge({ source, now: Date.now, cacheSize: 0 }),
    },
    cached: {
      analyzer: createAnalyzer({ cacheSize: defaults.analyzer_cache_size }),
      judge: createJudge({ source, now: Date.now, cacheSize: defaults.decision_cache_size }),
    },
  };
  const actx: AnalyzeContext = {
    searchPath: SEARCH_PATH,
    prepared: () => undefined,
    cursors: () => undefined,
  };
  const jctx: JudgeContext = {
    identity: BENCH_IDENTITY,
    sessionId: 's_bench_micro',
    database: o.database,
    applicationName: 'pgbench',
    clientAddr: '127.0.0.1',
    searchPath: SEARCH_PATH,
    inTransaction: false,
  };
  const long = Math.max(1, Math.round(o.samples / 5));
  const scenarios: Scenario[] = [
    { name: 'uncached', sql: shortSql, cached: false, samples: o.samples },
    { name: 'cached', sql: shortSql, cached: true, samples: o.samples },
    { name: 'uncached_2kb', sql: longSql, cached: false, samples: long },
    { name: 'cached_2kb', sql: longSql, cached: true, samples: long },
  ];
  const timings = new Map(scenarios.map((s) => [s.name, [] as number[]]));
  const judging = new Map(scenarios.map((s) => [s.name, [] as number[]]));
  // Fresh literals for every statement ever analyzed: the uncached runs never see a text twice.
  let serial = 0;
  const runBatch = (s: Scenario, count: number, record: boolean) => {
    const gate = s.cached ? gates.cached : gates.uncached;
    const texts = Array.from({ length: count }, () => s.sql(serial++));
    const out = timings.get(s.name)!;
    const outJudge = judging.get(s.name)!;
    for (const sql of texts) {
      const t0 = performance.now();
      const analyzed = gate.analyzer.analyze(sql, actx);
      const tAnalyzed = performance.now();
      const verdict = gate.judge.judge(analyzed.statements, jctx);
      const t1 = performance.now();
      if (!verdict.allow || verdict.outcome !== 'allowed') {
        throw new Error(`micro: ${s.name} was not allowed: ${JSON.stringify(verdict.denial)}`);
      }
      if (record) {
        out.push((t1 - t0) * 1000);
        outJudge.push((t1 - tAnalyzed) * 1000);
      }
    }
  };
  // Warm-up, then rounds interleaving the scenarios. The bench process, like `pgward serve`, has V8
  // optimize both WASM modules eagerly, but in the background, and the JavaScript around them is
  // optimized as it runs hot: each scenario warms until a batch is no longer clearly faster than the
  // one before (bounded), so the code a long-running gateway serves with is what gets measured.
  const warmBatches: number[] = [];
  for (const s of scenarios) {
    const size = Math.ceil(s.samples / ROUNDS);
    let previous = Number.POSITIVE_INFINITY;
    let batches = 0;
    while (batches < MAX_WARMUP_BATCHES) {
      const before = timings.get(s.name)!.length;
      runBatch(s, size, true);
      batches++;
      const batch = timings
        .get(s.name)!
        .splice(before)
        .sort((a, b) => a - b);
      judging.get(s.name)!.splice(before);
      const current = quantile(batch, 0.5);
      if (batches >= MIN_WARMUP_BATCHES && current > previous * 0.98) break;
      previous = Math.min(previous, current);
    }
    warmBatches.push(batches);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of scenarios) runBatch(s, Math.ceil(s.samples / ROUNDS), true);
  }
  const f: Figures = {};
  for (const s of scenarios) {
    const t = timings.get(s.name)!.sort((a, b) => a - b);
    f[`decide_p50_us_${s.name}`] = round1(quantile(t, 0.5));
    f[`decide_p99_us_${s.name}`] = round1(quantile(t, 0.99));
    // The judge's share alone (input building, cache, WASM evaluation, folding).
    const j = judging.get(s.name)!.sort((a, b) => a - b);
    f[`decide_judge_p50_us_${s.name}`] = round1(quantile(j, 0.5));
  }
  const stats = gates.cached.analyzer.stats();
  f.decide_cached_analyzer_hit_ratio = round3(stats.hits / Math.max(1, stats.hits + stats.misses));
  f.decide_samples = o.samples;
  f.decide_warmup_batches_max = Math.max(...warmBatches);
  f.decide_2kb_chars = longSql(serial).length;
  return f;
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

const round1 = (v: number) => Number(v.toFixed(1));
const round3 = (v: number) => Number(v.toFixed(3));

/** Cache sizes and WASM memory bound as the gateway runs them: the config schema's defaults. */
async function policyDefaults(root: string) {
  type Prop = { default?: unknown };
  const schema = JSON.parse(
    await readFile(join(root, 'schemas', 'config.schema.json'), 'utf8'),
  ) as { properties: { policy: { properties: Record<string, Prop> } } };
  const get = (key: string): number => {
    const v = schema.properties.policy.properties[key]?.default;
    if (typeof v !== 'number')
      throw new Error(`config schema: policy.${key} has no numeric default`);
    return v;
  };
  return {
    analyzer_cache_size: get('analyzer_cache_size'),
    decision_cache_size: get('decision_cache_size'),
    max_memory_pages: get('max_memory_pages'),
    max_named_objects: get('max_named_objects'),
  };
}
