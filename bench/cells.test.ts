// The warm-up plan: each target warms every pgbench workload and protocol it is measured with, once.
import { describe, expect, it } from 'vitest';
import { CELLS, warmups } from './cells.js';

describe('bench warm-ups', () => {
  it('covers every workload and protocol of the cells a target runs, each once', () => {
    expect(warmups(CELLS, 'pgward_policy', false)).toEqual([
      { workload: 'S', mode: 'simple' },
      { workload: 'S', mode: 'extended' },
      { workload: 'N', mode: 'simple' },
      { workload: 'N', mode: 'extended' },
    ]);
  });

  it('follows the cells chosen: a focused or quick run warms only what it measures', () => {
    const focused = CELLS.filter((c) => c.id === 'S_extended_c8' || c.id === 'S_extended_c1');
    expect(warmups(focused, 'pgward_policy', false)).toEqual([{ workload: 'S', mode: 'extended' }]);
    // In --quick, S_extended_c1 runs only on direct and pgward_policy: the relay warms nothing else.
    expect(warmups(focused, 'relay', true)).toEqual([{ workload: 'S', mode: 'extended' }]);
    expect(
      warmups(
        CELLS.filter((c) => c.kind === 'bulk'),
        'pgward',
        false,
      ),
    ).toEqual([]);
  });
});
