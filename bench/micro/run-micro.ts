// The in-process micro-benchmarks of one bench run: the per-statement gate (analyze + decide), the
// gate's whole work per transaction, and the audit writer's throughput into chDB. Run while the
// targets sit idle, one after the other.
import type { Figures } from '../report.js';
import { runAuditMicro } from './audit.js';
import { runDecideMicro } from './decide.js';
import { runGateMicro } from './gate.js';

export interface MicroOptions {
  readonly root: string;
  readonly bundleDir: string;
  readonly database: string;
  /** Scratch directory removed at the end of the run. */
  readonly tmpDir: string;
  readonly quick: boolean;
  readonly log: (line: string) => void;
}

/** Timed statements per gate scenario (the 2 KB query runs a fifth as many). */
const DECIDE_SAMPLES = { full: 20_000, quick: 10_000 };
/** Timed transactions per protocol and round through the whole gate. */
const GATE_TRANSACTIONS = { full: 50_000, quick: 20_000 };
/** Records pushed through the audit writer. */
const AUDIT_RECORDS = { full: 200_000, quick: 100_000 };

export async function runMicro(o: MicroOptions): Promise<Figures> {
  const size = o.quick ? 'quick' : 'full';
  o.log(`micro: analyze + decide, ${DECIDE_SAMPLES[size]} statements per scenario...`);
  const decide = await runDecideMicro({
    root: o.root,
    bundleDir: o.bundleDir,
    database: o.database,
    samples: DECIDE_SAMPLES[size],
  });
  o.log(
    `micro: p50 ${decide.decide_p50_us_uncached} us uncached, ${decide.decide_p50_us_cached} us cached`,
  );
  o.log(`micro: the gate per pgbench -S transaction, ${GATE_TRANSACTIONS[size]} per round...`);
  const gate = await runGateMicro({
    root: o.root,
    bundleDir: o.bundleDir,
    database: o.database,
    transactions: GATE_TRANSACTIONS[size],
  });
  o.log(
    `micro: gate ${gate.gate_us_per_tx_simple} us simple, ${gate.gate_us_per_tx_extended} us extended per transaction; heap ${gate.gate_heap_bytes_per_tx_simple} / ${gate.gate_heap_bytes_per_tx_extended} bytes allocated`,
  );
  o.log(`micro: audit writer into chDB, ${AUDIT_RECORDS[size]} records...`);
  const audit = await runAuditMicro({ dir: o.tmpDir, records: AUDIT_RECORDS[size] });
  o.log(`micro: ${audit.audit_records_per_s} audit records/s`);
  return { ...decide, ...gate, ...audit };
}
