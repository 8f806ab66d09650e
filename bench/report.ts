// Turns raw samples into medians under flat keys, computes the headline figures from those keys, and
// renders the readable table. Add a headline by appending to HEADLINES.
import type { BulkSample } from './bulk.js';
import { assertNever, type Cell, describeCell } from './cells.js';
import type { PgbenchSample } from './pgbench.js';

export type Sample = PgbenchSample | BulkSample;
export type Figures = Record<string, number | string | null>;

interface CellTargetResults {
  readonly samples: Sample[];
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
      entry = { samples: [], errors: [] };
      byTarget.set(target, entry);
    }
    return entry;
  }
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

export function flatten(cells: readonly Cell[], targets: readonly string[], r: Results): Figures {
  const f: Figures = {};
  for (const cell of cells) {
    for (const t of targets) {
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
          break;
        case 'bulk':
          f[`bulk_rows_per_s_${t}_${cell.bulk}`] = round(
            pick((s) => ('rows' in s ? s.rowsPerSec : undefined)),
            0,
          );
          f[`bulk_mb_per_s_${t}_${cell.bulk}`] = round(
            pick((s) => ('rows' in s ? s.mbPerSec : undefined)),
            1,
          );
          break;
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
      const s = spreadPct(r.at(cell.id, t).samples.map(primary));
      if (s !== null) spreads.push(s);
    }
  }
  return {
    bench_spread_pct_median: round(median(spreads), 1),
    bench_spread_pct_max: spreads.length > 0 ? round(Math.max(...spreads), 1) : null,
  };
}

export const HEADLINES: readonly { key: string; compute: (f: Figures) => number | null }[] = [
  {
    key: 'passthrough_relay_ratio_S8',
    compute: (f) => ratio(f.tps_pgward_S_simple_c8, f.tps_relay_S_simple_c8),
  },
  {
    key: 'passthrough_direct_ratio_S8',
    compute: (f) => ratio(f.tps_pgward_S_simple_c8, f.tps_direct_S_simple_c8),
  },
  {
    key: 'passthrough_pgbouncer_ratio_S8',
    compute: (f) => ratio(f.tps_pgward_S_simple_c8, f.tps_pgbouncer_S_simple_c8),
  },
  {
    key: 'passthrough_added_us_c1',
    compute: (f) => {
      const a = f.lat_ms_pgward_S_simple_c1;
      const b = f.lat_ms_direct_S_simple_c1;
      return typeof a === 'number' && typeof b === 'number' ? round((a - b) * 1000, 1) : null;
    },
  },
  {
    key: 'passthrough_bulk_ratio',
    compute: (f) => ratio(f.bulk_rows_per_s_pgward_select, f.bulk_rows_per_s_direct_select),
  },
];

const COMPARE_TO = ['direct', 'pgbouncer', 'relay'] as const;

export function renderTable(
  cells: readonly Cell[],
  targets: readonly { name: string; label: string }[],
  r: Results,
  seconds: number,
): string {
  const out: string[] = [];
  for (const cell of cells) {
    const head = cell.kind === 'pgbench' ? ['TPS', 'lat ms'] : ['rows/s', 'MB/s', 'seconds'];
    const rows = [['target', ...head, 'spread', 'n', ...COMPARE_TO.map((c) => `x${c}`)]];
    const med = (t: string, get: (s: Sample) => number) =>
      median(r.at(cell.id, t).samples.map(get));
    const base = new Map(COMPARE_TO.map((c) => [c, med(c, primary)]));
    for (const t of targets) {
      const { samples, errors } = r.at(cell.id, t.name);
      const p = med(t.name, primary);
      const figures =
        cell.kind === 'pgbench'
          ? [
              fmt(p, 1),
              fmt(
                med(t.name, (s) => ('tps' in s ? s.latencyMs : 0)),
                4,
              ),
            ]
          : [
              fmt(p, 0),
              fmt(
                med(t.name, (s) => ('rows' in s ? s.mbPerSec : 0)),
                1,
              ),
              fmt(
                med(t.name, (s) => ('rows' in s ? s.seconds : 0)),
                3,
              ),
            ];
      const spread = spreadPct(samples.map(primary));
      rows.push([
        t.label,
        ...figures,
        spread === null ? '-' : `${spread.toFixed(1)}%`,
        errors.length > 0 ? `${samples.length}+${errors.length}err` : String(samples.length),
        ...COMPARE_TO.map((c) => fmt(p === null ? null : ratio(p, base.get(c)), 3)),
      ]);
    }
    out.push('', `${cell.id}: ${describeCell(cell, seconds)}`, ...align(rows));
  }
  return out.join('\n');
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
