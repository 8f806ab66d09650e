import { describe, expect, it } from 'vitest';
import { parseCpuLine } from './settle.js';

describe('parseCpuLine', () => {
  it('counts idle and iowait as idle and the rest, steal included, as busy', () => {
    const stat = 'cpu  100 5 40 800 20 0 15 10 7 0\ncpu0 50 2 20 400 10 0 8 5 3 0\n';
    // guest (7) is already inside user: only the first eight fields add up.
    expect(parseCpuLine(stat)).toEqual({ busy: 100 + 5 + 40 + 15 + 10, total: 990 });
  });

  it('rejects a first line that is not the aggregate cpu line', () => {
    expect(parseCpuLine('cpu0 1 2 3 4 5\n')).toBeNull();
    expect(parseCpuLine('cpu 1 2 x 4 5\n')).toBeNull();
    expect(parseCpuLine('')).toBeNull();
  });
});
