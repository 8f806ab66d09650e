// Audit throughput, in process: observed statements through the gateway's audit observer (real mapping,
// hash chain and encoding) and the real writer into the embedded chDB store, opened by openAudit with
// the config defaults (batch size, flush interval, queue bound). Sustained records/s from the first
// statement until every record is stored.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openAudit } from '../../audit/open-audit.js';
import { allowedSelect, facts, observedSession } from '../../audit/testing/records.js';
import { loadConfig } from '../../cli/config.js';
import { silentLogger } from '../../lib/log.js';
import { createAuditObserver } from '../../proxy/audit-observer.js';
import type { StatementDone } from '../../proxy/session/requests.js';
import type { SessionInfo } from '../../proxy/session/session.js';
import type { Figures } from '../report.js';

export interface AuditMicroOptions {
  /** Scratch directory (the chDB data and the spool go under it). */
  readonly dir: string;
  readonly records: number;
}

/** The test builders' session as the gateway's SessionInfo (its id is a branded string there). */
const sessionInfo = (id: string) => observedSession(id) as SessionInfo;
/** Facts parts per statement shape, shared by every repeat as the analyzer's cache shares them. */
const SHAPES = Array.from({ length: 20 }, (_, i) =>
  Object.freeze({
    reads: Object.freeze([
      Object.freeze({ schema: 'public', table: `orders_${i}`, columns: Object.freeze(['id']) }),
    ]),
    writes: Object.freeze([]),
    functions: Object.freeze([]),
    flags: Object.freeze([]),
  }),
);

/**
 * An allowed SELECT answered, as the gate reports it: a fresh request and facts object per statement
 * (new sha256, literals), its facts parts those of its shape.
 */
function selectDone(at: number, n: number): StatementDone {
  const shape = SHAPES[n % SHAPES.length]!;
  const request = allowedSelect(at, n % 100, `orders_${n % SHAPES.length}`);
  const [statement] = request.event!.statements;
  return {
    ...request,
    event: {
      ...request.event!,
      statements: [
        {
          ...statement!,
          text: `select id from orders_${n % SHAPES.length} where id = ${n}`,
          facts: facts({ ...shape, sha256: n.toString(16).padStart(64, '0') }),
        },
      ],
    },
    masked: [],
  } as unknown as StatementDone;
}

const START = Date.parse('2026-01-01T00:00:00Z');
const CLOSED = { reason: 'client terminated', sqlstate: null, bytesIn: 0, bytesOut: 0 };

/**
 * µs per statement for the observer's own work (map, seal, encode, queue), warm, no store behind it;
 * building each request (the gate's work) is included.
 */
function timeObserver(n: number): number {
  let queued = 0;
  const observer = createAuditObserver({
    writer: { write: () => void queued++, accepting: () => true },
    statementText: 'normalized',
    log: silentLogger,
  });
  const session = sessionInfo('s_bench_timing');
  observer.sessionOpened(session, { tls: false });
  for (let i = 0; i < 2_000; i++) observer.statementDone(session, selectDone(START + i, i));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) observer.statementDone(session, selectDone(START + i, i));
  const us = ((performance.now() - t0) * 1000) / n;
  if (queued < n) throw new Error('the audit observer queued fewer records than it was given');
  return us;
}

/** Records per simulated session (one sealed hash chain, as the gateway builds them). */
const PER_SESSION = 1_000;
/** Statements between turns of the event loop (the store's inserts and timers run then). */
const YIELD_EVERY = 500;
/** Batches queued before the producer waits for the store: keeps the queue bounded. */
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
  const log = { info() {}, warn() {}, error() {} };
  // Mapping, sealing and encoding are timed on their own, warm, into a writer that only counts.
  const mapSealUs = timeObserver(Math.min(20_000, o.records));
  await using audit = await openAudit({ config, configDir: dir, secret: loaded.secret, log });
  // The gateway's own path per statement: the audit observer maps the observed request, seals it into
  // its session's chain, encodes the line and queues it; the writer batches lines into chDB.
  const observer = createAuditObserver({
    writer: audit.writer,
    statementText: 'normalized',
    log: silentLogger,
  });
  const t0 = performance.now();
  let session = sessionInfo('s_bench_0');
  for (let written = 0; written < o.records; written++) {
    if (written % PER_SESSION === 0) {
      if (written > 0) observer.sessionClosed(session, CLOSED);
      session = sessionInfo(`s_bench_${written / PER_SESSION}`);
      observer.sessionOpened(session, { tls: false });
    }
    observer.statementDone(session, selectDone(START + written, written));
    if (written % YIELD_EVERY === YIELD_EVERY - 1) {
      // Inserts run while statements keep coming, as in the gateway; a store that falls behind holds
      // the producer back before the queue reaches its bound.
      await new Promise((resolve) => setImmediate(resolve));
      if (audit.writer.queueDepth > config.batch_size * BATCHES_IN_FLIGHT)
        await audit.writer.flush();
    }
  }
  observer.sessionClosed(session, CLOSED);
  await audit.writer.flush();
  const seconds = (performance.now() - t0) / 1000;
  const [stored] = await audit.sink.select<{ n: string | number }>(
    'SELECT count() AS n FROM {db:Identifier}.statements',
  );
  return {
    audit_records_per_s: Math.round(o.records / seconds),
    audit_records: o.records,
    audit_records_stored: Number(stored?.n ?? 0),
    audit_batch_size: config.batch_size,
    audit_map_seal_us_per_record: Number(mapSealUs.toFixed(1)),
    audit_spooled_batches: audit.writer.spooledBatches,
    audit_dropped_records: audit.writer.droppedRecords,
  };
}
