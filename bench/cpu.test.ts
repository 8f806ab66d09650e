// Reading a target's CPU time from /proc: stat lines whose command names hold spaces and parentheses,
// and a process tree summed over descendants in any pid order.
import { describe, expect, it } from 'vitest';
import { type ProcStat, parseProcStat, processTreeTicks, treeTicks } from './cpu.js';

describe('parseProcStat', () => {
  it('reads ppid and utime + stime after the last parenthesis of the command name', () => {
    const line =
      '4242 (node (pgward) x) S 4200 4242 4242 0 -1 4194560 900 0 0 0 150 37 0 0 20 0 11 0';
    expect(parseProcStat(line)).toEqual({ ppid: 4200, ticks: 187 });
  });

  it('refuses a line without a command name or with missing fields', () => {
    expect(parseProcStat('4242 node S 1 2 3')).toBeNull();
    expect(parseProcStat('4242 (node) S 1 2')).toBeNull();
  });
});

describe('treeTicks', () => {
  it('sums a process and all its descendants, children listed before parents included', () => {
    const stats = new Map<number, ProcStat>([
      [5, { ppid: 900, ticks: 7 }], // a worker's child, its pid wrapped below its parent's
      [100, { ppid: 1, ticks: 40 }], // the target
      [900, { ppid: 100, ticks: 30 }], // a worker
      [901, { ppid: 100, ticks: 20 }], // another worker
      [902, { ppid: 1, ticks: 1000 }], // unrelated
    ]);
    expect(treeTicks(stats, 100)).toBe(40 + 30 + 20 + 7);
    expect(treeTicks(stats, 901)).toBe(20);
    expect(treeTicks(stats, 12345)).toBeNull();
  });
});

describe('processTreeTicks', () => {
  it('reads this process from /proc, and nothing for a pid that does not exist', async () => {
    const own = await processTreeTicks(process.pid);
    expect(own).toBeTypeOf('number');
    expect(own).toBeGreaterThanOrEqual(0);
    expect(await processTreeTicks(2 ** 22 + 1)).toBeNull();
  });
});
