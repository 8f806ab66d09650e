// Reading pgbench's report: TPS, the transaction count and failures; a report without them is refused.
import { describe, expect, it } from 'vitest';
import { parseReport } from './pgbench.js';

const REPORT = `pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: <builtin: select only>
scaling factor: 10
query mode: simple
number of clients: 8
number of threads: 2
maximum number of tries: 1
duration: 3 s
number of transactions actually processed: 38123
number of failed transactions: 2 (0.005%)
latency average = 0.627 ms
initial connection time = 21.370 ms
tps = 12765.104 (without initial connection time)
`;

describe('parseReport', () => {
  it('reads TPS, transactions and failures, and derives the mean latency from TPS', () => {
    const s = parseReport(REPORT, 8);
    expect(s).toEqual({
      tps: 12765.104,
      latencyMs: (8 * 1000) / 12765.104,
      failed: 2,
      transactions: 38123,
    });
  });

  it('refuses a report without TPS or without the transaction count', () => {
    expect(parseReport(REPORT.replace(/^tps = .*$/m, ''), 8)).toBeNull();
    expect(parseReport(REPORT.replace(/^number of transactions actually.*$/m, ''), 8)).toBeNull();
  });
});
