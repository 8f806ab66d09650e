// The paired statistic behind the comparing headlines: per round, then the median over rounds; rounds
// where either run has no sample are left out; a drift that moves both runs of a round cancels.

import { describe, expect, it } from 'vitest';
import type { PgbenchSample } from './pgbench.js';
import { HEADLINES, paired, primary, Results } from './report.js';

const sample = (tps: number, latencyMs: number, cpuUsPerTx?: number): PgbenchSample => ({
  tps,
  latencyMs,
  failed: 0,
  transactions: tps * 3,
  ...(cpuUsPerTx === undefined ? {} : { cpuUsPerTx }),
});

function record(r: Results, cell: string, target: string, byRound: Record<number, number>): void {
  const entry = r.at(cell, target);
  for (const [round, tps] of Object.entries(byRound)) {
    entry.samples.push(sample(tps, 1000 / tps));
    entry.rounds.push(Number(round));
  }
}

const tps = primary;
const div = (a: number, b: number) => a / b;

describe('paired', () => {
  it('is the median of the same-round ratios, not the ratio of the medians', () => {
    const r = new Results();
    // The machine halves its speed in rounds 2 and 3; pgward stays at 0.9 of the relay in every round.
    record(r, 'c', 'relay', { 0: 10_000, 1: 10_000, 2: 5_000, 3: 5_000, 4: 5_000 });
    record(r, 'c', 'pgward', { 0: 9_000, 1: 9_000, 2: 4_500, 3: 4_500, 4: 9_000 });
    // Ratio of medians: 9000 / 5000 = 1.8; per round: 0.9, 0.9, 0.9, 0.9, 1.8 -> 0.9.
    expect(paired(r, ['c', 'pgward'], ['c', 'relay'], tps, div)).toBeCloseTo(0.9, 10);
  });

  it('leaves out rounds where either run has no sample, and is null when none pairs', () => {
    const r = new Results();
    record(r, 'c', 'a', { 0: 100, 2: 300 });
    record(r, 'c', 'b', { 1: 100, 2: 100 });
    expect(paired(r, ['c', 'a'], ['c', 'b'], tps, div)).toBe(3);
    expect(paired(r, ['c', 'a'], ['c', 'missing'], tps, div)).toBeNull();
  });

  it('pairs runs of two cells by round (a masked read against its unmasked twin)', () => {
    const r = new Results();
    record(r, 'mask_masked', 'pgward_policy', { 0: 80, 1: 40 });
    record(r, 'mask_unmasked', 'pgward_policy', { 0: 100, 1: 50 });
    const h = HEADLINES.find((x) => x.key === 'mask_unmasked_ratio')!;
    expect(h.compute({}, r)).toBe(0.8);
  });
});

describe('comparing headlines', () => {
  it('policy_relay_ratio_S8 and policy_added_us_c1 come from same-round pairs', () => {
    const r = new Results();
    record(r, 'S_simple_c8', 'relay', { 0: 10_000, 1: 5_000, 2: 5_000 });
    record(r, 'S_simple_c8', 'pgward_policy', { 0: 9_000, 1: 4_500, 2: 4_500 });
    // Latency is 1000 / tps ms: direct 0.1 ms; pgward+policy 0.15 ms in round 0, 0.2 ms after.
    record(r, 'S_simple_c1', 'direct', { 0: 10_000, 1: 10_000, 2: 10_000 });
    record(r, 'S_simple_c1', 'pgward_policy', { 0: 1000 / 0.15, 1: 5_000, 2: 5_000 });
    const value = (key: string) => HEADLINES.find((h) => h.key === key)!.compute({}, r);
    expect(value('policy_relay_ratio_S8')).toBe(0.9);
    expect(value('policy_added_us_c1')).toBe(100);
    expect(value('policy_relay_ratio_S8_ext')).toBeNull();
  });
});

describe('CPU per transaction', () => {
  it('policy_cpu_added_us_S8 is the median same-round difference, and null without CPU figures', () => {
    const r = new Results();
    const add = (target: string, byRound: [number, number][]) => {
      const entry = r.at('S_simple_c8', target);
      byRound.forEach(([tps, cpu], round) => {
        entry.samples.push(sample(tps, 8000 / tps, cpu));
        entry.rounds.push(round);
      });
    };
    // The machine slows in round 1 (TPS falls) but each process's CPU per transaction barely moves.
    add('pgward', [
      [12_000, 60],
      [6_000, 64],
      [12_000, 61],
    ]);
    add('pgward_policy', [
      [11_000, 66],
      [5_000, 71],
      [11_000, 66],
    ]);
    const value = (key: string) => HEADLINES.find((h) => h.key === key)!.compute({}, r);
    // Per round: 6, 7, 5 -> 6.
    expect(value('policy_cpu_added_us_S8')).toBe(6);
    expect(value('policy_cpu_added_us_S8_ext')).toBeNull();
    const bare = new Results();
    record(bare, 'S_simple_c8', 'pgward', { 0: 12_000 });
    record(bare, 'S_simple_c8', 'pgward_policy', { 0: 11_000 });
    expect(HEADLINES.find((h) => h.key === 'policy_cpu_added_us_S8')!.compute({}, bare)).toBeNull();
  });
});
