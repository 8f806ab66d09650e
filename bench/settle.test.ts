import { describe, expect, it } from 'vitest';
import { parseCpuLine, stealShare } from './settle.js';

describe('parseCpuLine', () => {
  it('counts idle and iowait as idle and the rest, steal included, as busy', () => {
    const stat = 'cpu  100 5 40 800 20 0 15 10 7 0\ncpu0 50 2 20 400 10 0 8 5 3 0\n';
    // guest (7) is already inside user: only the first eight fields add up.
    expect(parseCpuLine(stat)).toEqual({ busy: 100 + 5 + 40 + 15 + 10, total: 990, steal: 10 });
  });

  it('rejects a first line that is not the aggregate cpu line', () => {
    expect(parseCpuLine('cpu0 1 2 3 4 5\n')).toBeNull();
    expect(parseCpuLine('cpu 1 2 x 4 5\n')).toBeNull();
    expect(parseCpuLine('')).toBeNull();
  });
});

describe('stealShare', () => {
  it('is the steal ticks between two readings over all ticks between them', () => {
    const before = parseCpuLine('cpu 100 0 50 800 0 0 0 50 0 0\n')!;
    const after = parseCpuLine('cpu 160 0 70 900 0 0 0 70 0 0\n')!;
    // 60 + 20 + 100 + 20 = 200 ticks in all, 20 of them stolen.
    expect(stealShare(before, after)).toBe(0.1);
    expect(stealShare(after, after)).toBeNull();
  });
});
