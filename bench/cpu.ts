// CPU time (user + system) of a target's processes, read from /proc around one measured run: the process
// and its descendants (a cluster's workers). Linux only; elsewhere the figure is simply absent.
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc's time fields (USER_HZ). */
export const TICKS_PER_SECOND: number = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

export interface ProcStat {
  readonly ppid: number;
  /** utime + stime, in clock ticks. */
  readonly ticks: number;
}

/** One /proc/<pid>/stat line; the command name may hold spaces and parentheses, so fields follow the last ')'. */
export function parseProcStat(line: string): ProcStat | null {
  const close = line.lastIndexOf(')');
  if (close < 0) return null;
  // After ')': state, ppid, pgrp, session, tty_nr, tpgid, flags, minflt, cminflt, majflt, cmajflt, utime, stime.
  const fields = line
    .slice(close + 2)
    .trim()
    .split(' ');
  const ppid = Number(fields[1]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (![ppid, utime, stime].every(Number.isInteger)) return null;
  return { ppid, ticks: utime + stime };
}

/** CPU ticks used so far by `pid` and every live descendant; null when `pid` cannot be read. */
export async function processTreeTicks(pid: number): Promise<number | null> {
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return null;
  }
  const stats = new Map<number, ProcStat>();
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = parseProcStat(await readFile(`/proc/${name}/stat`, 'utf8'));
      if (stat !== null) stats.set(Number(name), stat);
    } catch {
      // The process ended while the list was read.
    }
  }
  return treeTicks(stats, pid);
}

/** The ticks of `pid` and of every process descending from it in `stats`; null when `pid` is absent. */
export function treeTicks(stats: ReadonlyMap<number, ProcStat>, pid: number): number | null {
  if (!stats.has(pid)) return null;
  const tree = new Set([pid]);
  // A child's pid can be lower than its parent's (pids wrap): repeat until nothing is added.
  for (let added = true; added; ) {
    added = false;
    for (const [p, stat] of stats) {
      if (!tree.has(p) && tree.has(stat.ppid)) {
        tree.add(p);
        added = true;
      }
    }
  }
  let total = 0;
  for (const p of tree) total += stats.get(p)!.ticks;
  return total;
}
