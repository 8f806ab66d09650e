// Waits, before each measurement, until the machine is quiet: work one target leaves behind (the audit
// store inserting and merging its last batch, PostgreSQL's autovacuum and checkpoints after a write
// workload) would otherwise be charged to whichever target runs next. Reads the kernel's CPU counters
// (/proc/stat); where there are none, it returns at once.
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

export interface SettleOptions {
  /** Busy share of all cores (0..1) under which the machine counts as quiet. */
  readonly quietBelow: number;
  /** Length of one observation window. */
  readonly windowMs: number;
  /** Longest wait; the measurement then goes ahead and the wait is reported as unsettled. */
  readonly maxWaitMs: number;
}

export interface Settled {
  readonly waitedMs: number;
  /** Busy share in the last window (null without /proc/stat). */
  readonly busy: number | null;
  readonly quiet: boolean;
}

export const SETTLE_DEFAULTS: SettleOptions = {
  quietBelow: 0.12,
  windowMs: 250,
  maxWaitMs: 15_000,
};

export interface CpuTimes {
  readonly busy: number;
  readonly total: number;
  /** Time the hypervisor ran something else while this machine had work (the eighth field). */
  readonly steal: number;
}

/** The aggregate `cpu` line: idle and iowait count as idle, everything else (steal included) as busy. */
export function parseCpuLine(stat: string): CpuTimes | null {
  const line = stat.split('\n', 1)[0] ?? '';
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== 'cpu' || fields.length < 6) return null;
  const ticks = fields.slice(1).map(Number);
  if (ticks.some((n) => !Number.isFinite(n))) return null;
  // user nice system idle iowait irq softirq steal guest guest_nice: guest time is inside user already.
  const counted = ticks.slice(0, 8);
  const total = counted.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total, steal: ticks[7] ?? 0 };
}

/** Steal as a share (0..1) of all CPU time between two readings; null when none passed. */
export function stealShare(before: CpuTimes, after: CpuTimes): number | null {
  const total = after.total - before.total;
  return total > 0 ? (after.steal - before.steal) / total : null;
}

export async function cpuTimes(): Promise<CpuTimes | null> {
  try {
    return parseCpuLine(await readFile('/proc/stat', 'utf8'));
  } catch {
    return null;
  }
}

export async function settle(options: SettleOptions = SETTLE_DEFAULTS): Promise<Settled> {
  const started = performance.now();
  let before = await cpuTimes();
  if (before === null) return { waitedMs: 0, busy: null, quiet: true };
  const windows = Math.max(1, Math.ceil(options.maxWaitMs / options.windowMs));
  let busy = 1;
  for (let i = 0; i < windows; i++) {
    await delay(options.windowMs);
    const after = await cpuTimes();
    if (after === null) return { waitedMs: performance.now() - started, busy: null, quiet: true };
    const total = after.total - before.total;
    busy = total > 0 ? (after.busy - before.busy) / total : 0;
    before = after;
    if (busy < options.quietBelow) {
      return { waitedMs: performance.now() - started, busy, quiet: true };
    }
  }
  return { waitedMs: performance.now() - started, busy, quiet: false };
}
