// Audit throughput, in process: statement records (real mapping and hash chain) pushed through the real
// writer into the embedded chDB store, opened by openAudit with the config defaults (batch size, flush
// interval, queue bound). Sustained records/s from the first write until every record is stored.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openAudit } from '../../audit/open-audit.js';
import { sealedRecords } from '../../audit/testing/records.js';
import { loadConfig } from '../../cli/config.js';
import type { Figures } from '../report.js';

export interface AuditMicroOptions {
  /** Scratch directory (the chDB data and the spool go under it). */
  readonly dir: string;
  readonly records: number;
}

/** Records per simulated session (one sealed hash chain, as the gateway builds them). */
const PER_SESSION = 1_000;
/** Batches handed to the writer before waiting for them to be stored: keeps its queue bounded. */
const BATCHES_IN_FLIGHT = 10;

export async function runAuditMicro(o: AuditMicroOptions): Promise<Figures> {
  const dir = join(o.dir, 'audit-micro');
  await mkdir(dir, { recursive: true });
  // The real config loader fills in the schema's defaults (batch_size, flush_ms, queue_max, ...).
  const loaded = loadConfig(
    JSON.stringify({
      upstreams: [{ name: 'bench', host: '127.0.0.1', database: 'bench', user: 'bench' }],
      policy: { disabled: true },
      audit: { chdb_path: 'chdb', spool_dir: 'spool' },
    }),
    {},
    dir,
  );
  if (!loaded.ok) throw new Error(`audit micro config: ${JSON.stringify(loaded.problems)}`);
  const config = loaded.config.audit;
  // Mapping and sealing (canonical JSON + SHA-256 chain) are timed on their own, warm: they run in the
  // gateway per statement, not in the writer.
  sealedRecords('s_bench_warm', 200);
  const sealStart = performance.now();
  const template = sealedRecords('s_bench_0', Math.min(PER_SESSION, o.records));
  const sealUs = ((performance.now() - sealStart) * 1000) / template.length;
  const log = { info() {}, warn() {}, error() {} };
  await using audit = await openAudit({ config, configDir: dir, secret: loaded.secret, log });
  const chunk = config.batch_size * BATCHES_IN_FLIGHT;
  const t0 = performance.now();
  for (let written = 0; written < o.records; ) {
    // Further sessions reuse the first one's records under their own session id (copying is cheap).
    const end = Math.min(o.records, written + chunk);
    for (; written < end; written++) {
      const record = template[written % template.length]!;
      const sessionId = `s_bench_${Math.floor(written / template.length)}`;
      audit.writer.write({ table: 'statements', record: { ...record, session_id: sessionId } });
    }
    await audit.writer.flush();
  }
  const seconds = (performance.now() - t0) / 1000;
  const [stored] = await audit.sink.select<{ n: string | number }>(
    'SELECT count() AS n FROM {db:Identifier}.statements',
  );
  return {
    audit_records_per_s: Math.round(o.records / seconds),
    audit_records: o.records,
    audit_records_stored: Number(stored?.n ?? 0),
    audit_batch_size: config.batch_size,
    audit_map_seal_us_per_record: Number(sealUs.toFixed(1)),
    audit_spooled_batches: audit.writer.spooledBatches,
    audit_dropped_records: audit.writer.droppedRecords,
  };
}
