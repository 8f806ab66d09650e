// Turns raw samples into medians under flat keys, computes the headline figures, and renders the
// readable table. Add a headline by appending to HEADLINES. A headline comparing two targets is the
// median over rounds of the two targets' figures in the same round (a paired ratio or difference):
// both ran within seconds of each other, so a machine whose speed drifts over minutes moves both.
import type { BulkSample } from './bulk.js';
import { assertNever, type Cell, describeCell } from './cells.js';
import type { PgbenchSample } from './pgbench.js';

export type Sample = PgbenchSample | BulkSample;
export type Figures = Record<string, number | string | null>;

interface CellTargetResults {
  readonly samples: Sample[];
  /** The round of each sample (parallel to samples). */
  readonly rounds: number[];
  readonly errors: string[];
}

/** cell id -> target name -> samples and errors, filled as the runs complete. */
export class Results {
  readonly #cells = new Map<string, Map<string, CellTargetResults>>();

  at(cellId: string, target: string): CellTargetResults {
    let byTarget = this.#cells.get(cellId);
    if (byTarget === undefined) {
      byTarget = new Map();
      this.#cells.set(cellId, byTarget);
    }
    let entry = byTarget.get(target);
    if (entry === undefined) {
      entry = { samples: [], rounds: [], errors: [] };
      byTarget.set(target, entry);
    }
    return entry;
  }
}

/** One cell on one target: [cell id, target name]. */
export type Run = readonly [cellId: string, target: string];

/**
 * The median over the rounds both runs have a sample in of `combine(a's value, b's value)`; null
 * when no round has both.
 */
export function paired(
  r: Results,
  a: Run,
  b: Run,
  value: (s: Sample) => number | undefined,
  combine: (a: number, b: number) => number,
): number | null {
  const byRound = ([cellId, t]: Run) => {
    const { samples, rounds } = r.at(cellId, t);
    const out = new Map<number, number>();
    samples.forEach((s, i) => {
      const v = value(s);
      if (v !== undefined) out.set(rounds[i]!, v);
    });
    return out;
  };
  const other = byRound(b);
  const values: number[] = [];
  for (const [round, v] of byRound(a)) {
    const w = other.get(round);
    if (w !== undefined) values.push(combine(v, w));
  }
  return median(values);
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** (max - min) / median, in percent: how far apart the repeated runs of one cell were. */
export function spreadPct(values: readonly number[]): number | null {
  const m = median(values);
  if (m === null || values.length < 2 || m === 0) return null;
  return ((Math.max(...values) - Math.min(...values)) / m) * 100;
}

const round = (v: number | null, digits: number): number | null =>
  v === null || !Number.isFinite(v) ? null : Number(v.toFixed(digits));

const ratio = (a: unknown, b: unknown): number | null =>
  typeof a === 'number' && typeof b === 'number' && b !== 0 ? round(a / b, 3) : null;

/** The primary figure of a cell (higher is better), used for ratios and spread. */
export function primary(s: Sample): number {
  return 'tps' in s ? s.tps : s.rowsPerSec;
}

/** Whether a cell ran on a target at all (cells run on a subset of the targets). */
const ran = (r: Results, cellId: string, t: string): boolean => {
  const { samples, errors } = r.at(cellId, t);
  return samples.length + errors.length > 0;
};

export function flatten(cells: readonly Cell[], targets: readonly string[], r: Results): Figures {
  const f: Figures = {};
  for (const cell of cells) {
    for (const t of targets) {
      if (!ran(r, cell.id, t)) continue;
      const { samples } = r.at(cell.id, t);
      const pick = (get: (s: Sample) => number | undefined) =>
        median(samples.map(get).filter((v): v is number => v !== undefined));
      switch (cell.kind) {
        case 'pgbench':
          f[`tps_${t}_${cell.id}`] = round(
            pick((s) => ('tps' in s ? s.tps : undefined)),
            1,
          );
          f[`lat_ms_${t}_${cell.id}`] = round(
            pick((s) => ('tps' in s ? s.latencyMs : undefined)),
            4,
          );
          {
            const cpu = round(pick(cpuPerTx), 1);
            if (cpu !== null) f[`cpu_us_per_tx_${t}_${cell.id}`] = cpu;
          }
          break;
        case 'bulk': {
          f[`bulk_rows_per_s_${t}_${cell.bulk}`] = round(
            pick((s) => ('rows' in s ? s.rowsPerSec : undefined)),
            0,
          );
          f[`bulk_mb_per_s_${t}_${cell.bulk}`] = round(
            pick((s) => ('rows' in s ? s.mbPerSec : undefined)),
            1,
          );
          const growth = pick((s) => ('rows' in s ? s.rssGrowthKb : undefined));
          if (growth !== null) f[`bulk_rss_growth_mb_${t}_${cell.bulk}`] = round(growth / 1024, 1);
          break;
        }
        default:
          assertNever(cell);
      }
    }
  }
  return f;
}

/** Median and largest run-to-run spread over every cell and target: a noise gauge for the whole run. */
export function noise(cells: readonly Cell[], targets: readonly string[], r: Results): Figures {
  const spreads: number[] = [];
  for (const cell of cells) {
    for (const t of targets) {
      if (!ran(r, cell.id, t)) continue;
      const s = spreadPct(r.at(cell.id, t).samples.map(primary));
      if (s !== null) spreads.push(s);
    }
  }
  return {
    bench_spread_pct_median: round(median(spreads), 1),
    bench_spread_pct_max: spreads.length > 0 ? round(Math.max(...spreads), 1) : null,
  };
}

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

const latency = (s: Sample): number | undefined => ('tps' in s ? s.latencyMs : undefined);

/** The target's own CPU time per transaction (µs), where it was measured. */
const cpuPerTx = (s: Sample): number | undefined => ('tps' in s ? s.cpuUsPerTx : undefined);

/** Paired (a − b) of the targets' CPU time per transaction, µs. */
const cpuAddedUs = (r: Results, cellId: string, a: string, b: string): number | null =>
  round(
    paired(r, [cellId, a], [cellId, b], cpuPerTx, (x, y) => x - y),
    1,
  );

/** Paired a / b of the cell's primary figure (TPS, rows/s). */
const pairedRatio = (r: Results, cellId: string, a: string, b: string): number | null =>
  runRatio(r, [cellId, a], [cellId, b]);

const runRatio = (r: Results, a: Run, b: Run): number | null =>
  round(
    paired(r, a, b, primary, (x, y) => (y === 0 ? Number.NaN : x / y)),
    3,
  );

/** Paired (a − b) in µs of the mean latencies (ms). */
const addedUs = (r: Results, cellId: string, a: string, b: string): number | null =>
  round(
    paired(r, [cellId, a], [cellId, b], latency, (x, y) => (x - y) * 1000),
    1,
  );

/** Paired 1 − a / b: the share of b's throughput that a loses. */
const cost = (r: Results, cellId: string, a: string, b: string): number | null => {
  const v = pairedRatio(r, cellId, a, b);
  return v === null ? null : round(1 - v, 3);
};

type Headline = { key: string; compute: (f: Figures, r: Results) => number | null };

/** A headline that is the paired ratio of the primary figure of two targets in one cell. */
const ratioOf = (key: string, cellId: string, a: string, b: string): Headline => ({
  key,
  compute: (_, r) => pairedRatio(r, cellId, a, b),
});

/** The pgward+policy headlines on one protocol (`S_<mode>_c…` cells); suffix `_ext` for extended. */
function policyHeadlines(mode: 'simple' | 'extended', suffix: string): Headline[] {
  const c8 = `S_${mode}_c8`;
  const c1 = `S_${mode}_c1`;
  return [
    ratioOf(`policy_relay_ratio_S8${suffix}`, c8, 'pgward_policy', 'relay'),
    ratioOf(`policy_direct_ratio_S8${suffix}`, c8, 'pgward_policy', 'direct'),
    {
      key: `policy_added_us_c1${suffix}`,
      compute: (_, r) => addedUs(r, c1, 'pgward_policy', 'direct'),
    },
    {
      // The gateway's own CPU per transaction that policy adds to pass-through: steadier than TPS where
      // the machine's speed swings, as it does not depend on what else got the CPU meanwhile.
      key: `policy_cpu_added_us_S8${suffix}`,
      compute: (_, r) => cpuAddedUs(r, c8, 'pgward_policy', 'pgward'),
    },
    {
      key: `audit_tps_cost${suffix}`,
      compute: (_, r) => cost(r, c8, 'pgward_policy_audit', 'pgward_policy'),
    },
  ];
}

/** Figures measured outside the cells (micro-benchmarks, idle memory), headlined as they are. */
const asIs = (key: string): Headline => ({ key, compute: (f) => num(f[key]) });

/** The masked read against the same read of the unmasked twin table, on pgward+policy. */
const MASK_RATIO: Headline = {
  key: 'mask_unmasked_ratio',
  compute: (_, r) =>
    runRatio(r, ['mask_masked', 'pgward_policy'], ['mask_unmasked', 'pgward_policy']),
};

export const HEADLINES: readonly Headline[] = [
  ratioOf('passthrough_relay_ratio_S8', 'S_simple_c8', 'pgward', 'relay'),
  ratioOf('passthrough_direct_ratio_S8', 'S_simple_c8', 'pgward', 'direct'),
  ratioOf('passthrough_pgbouncer_ratio_S8', 'S_simple_c8', 'pgward', 'pgbouncer'),
  {
    key: 'passthrough_added_us_c1',
    compute: (_, r) => addedUs(r, 'S_simple_c1', 'pgward', 'direct'),
  },
  ratioOf('passthrough_bulk_ratio', 'bulk_select', 'pgward', 'direct'),
  ...policyHeadlines('simple', ''),
  ratioOf('policy_passthrough_ratio_S8', 'S_simple_c8', 'pgward_policy', 'pgward'),
  ...policyHeadlines('extended', '_ext'),
  MASK_RATIO,
  {
    key: 'mask_rss_growth_mb',
    compute: (f) => num(f.bulk_rss_growth_mb_pgward_policy_masked),
  },
  asIs('decide_p50_us_uncached'),
  asIs('decide_p50_us_cached'),
  asIs('decide_p99_us_uncached'),
  asIs('decide_p99_us_cached'),
  asIs('decide_p50_us_uncached_2kb'),
  asIs('decide_p50_us_cached_2kb'),
  asIs('gate_us_per_tx_simple'),
  asIs('gate_us_per_tx_extended'),
  asIs('gate_heap_bytes_per_tx_simple'),
  asIs('gate_heap_bytes_per_tx_extended'),
  asIs('audit_records_per_s'),
  asIs('idle_rss_kb_per_conn'),
];

const COMPARE_TO = ['direct', 'pgbouncer', 'relay', 'pgward'] as const;

export function renderTable(
  cells: readonly Cell[],
  targets: readonly { name: string; label: string }[],
  r: Results,
  seconds: number,
): string {
  const out: string[] = [];
  for (const cell of cells) {
    const med = (t: string, get: (s: Sample) => number | undefined) =>
      median(
        r
          .at(cell.id, t)
          .samples.map(get)
          .filter((v): v is number => v !== undefined),
      );
    // Only the comparison targets this cell ran on get a column.
    const base = new Map(
      COMPARE_TO.map((c) => [c, med(c, primary)] as const).filter(([, v]) => v !== null),
    );
    const bulk = (get: (s: BulkSample) => number | undefined) => (t: string) =>
      med(t, (s) => ('rows' in s ? get(s) : undefined));
    const columns: Column[] =
      cell.kind === 'pgbench'
        ? [
            ['TPS', (t) => med(t, primary), 1],
            ['lat ms', (t) => med(t, (s) => ('tps' in s ? s.latencyMs : undefined)), 4],
          ]
        : [
            ['rows/s', (t) => med(t, primary), 0],
            ['MB/s', bulk((s) => s.mbPerSec), 1],
            ['seconds', bulk((s) => s.seconds), 3],
            ...(cell.rss ? [peakColumn(bulk((s) => s.rssGrowthKb))] : []),
          ];
    const rows = [
      [
        'target',
        ...columns.map((c) => c[0]),
        'spread',
        'n',
        ...[...base.keys()].map((c) => `x${c}`),
      ],
    ];
    for (const t of targets) {
      if (!ran(r, cell.id, t.name)) continue;
      const { samples, errors } = r.at(cell.id, t.name);
      const p = med(t.name, primary);
      const spread = spreadPct(samples.map(primary));
      rows.push([
        t.label,
        ...columns.map(([, get, digits]) => fmt(get(t.name), digits)),
        spread === null ? '-' : `${spread.toFixed(1)}%`,
        errors.length > 0 ? `${samples.length}+${errors.length}err` : String(samples.length),
        ...[...base.values()].map((v) => fmt(p === null ? null : ratio(p, v), 3)),
      ]);
    }
    out.push('', `${cell.id}: ${describeCell(cell, seconds)}`, ...align(rows));
  }
  return out.join('\n');
}

type Column = [label: string, get: (t: string) => number | null, digits: number];

/** Peak resident-set growth during the read, from kB to MB. */
function peakColumn(kb: (t: string) => number | null): Column {
  return [
    'peak+ MB',
    (t) => {
      const v = kb(t);
      return v === null ? null : v / 1024;
    },
    1,
  ];
}

/** Pads every column to its widest cell: the first left-aligned, the figures right-aligned. */
function align(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, c] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  }
  return rows.map((row) =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '),
  );
}

const fmt = (v: number | null | undefined, digits: number): string =>
  v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);
