// Builds the audit store and writer from the `audit` config section, for the composition root (cli):
// ClickHouse when clickhouse_url is set, else embedded chDB at chdb_path; migrations applied first.

import path from 'node:path';
import type { PgwardConfigResolved, SecretRef } from '../schemas/generated/config.js';
import type { AuditSink } from './sink.js';
import { createChdbSink } from './sinks/chdb.js';
import { createClickHouseSink } from './sinks/clickhouse.js';
import { type AuditWriter, createAuditWriter, type WriterLog } from './writer.js';

export interface OpenAuditDeps {
  readonly config: PgwardConfigResolved['audit'];
  /** Relative chdb_path and spool_dir are resolved against it. */
  readonly configDir: string;
  readonly secret: (ref: SecretRef) => Buffer;
  readonly log: WriterLog;
  /**
   * Worker index under node:cluster: each worker owns its spool (spool_dir/worker-N). chDB allows one
   * process per data directory, so with more than one worker use ClickHouse (clickhouse_url).
   */
  readonly workerIndex?: number;
  readonly now?: () => number;
}

export interface OpenedAudit extends AsyncDisposable {
  readonly sink: AuditSink;
  readonly writer: AuditWriter;
  /** Flushes the writer (close the gateway first), then closes the store. */
  close(): Promise<void>;
}

export async function openAudit(deps: OpenAuditDeps): Promise<OpenedAudit> {
  const { config } = deps;
  const common = {
    database: config.database,
    retentionDays: config.retention_days,
    ...(deps.now !== undefined ? { now: deps.now } : {}),
  };
  const sink =
    config.clickhouse_url !== undefined
      ? createClickHouseSink({
          ...common,
          // SECURITY: the URL carries credentials; it is resolved here and never logged.
          url: deps.secret(config.clickhouse_url).toString('utf8').trim(),
        })
      : createChdbSink({ ...common, path: path.resolve(deps.configDir, config.chdb_path) });
  try {
    await sink.migrate();
  } catch (err) {
    await sink.close();
    throw new Error(`audit store (${sink.kind}) could not be prepared`, { cause: err });
  }
  const spoolRoot = path.resolve(deps.configDir, config.spool_dir);
  const writer = createAuditWriter({
    sink,
    spoolDir:
      deps.workerIndex === undefined
        ? spoolRoot
        : path.join(spoolRoot, `worker-${deps.workerIndex}`),
    batchSize: config.batch_size,
    flushMs: config.flush_ms,
    queueMax: config.queue_max,
    spoolMaxBytes: config.spool_max_bytes,
    failClosed: config.fail_closed,
    log: deps.log,
    ...(deps.now !== undefined ? { now: deps.now } : {}),
  });
  const close = async () => {
    await writer.close();
    await sink.close();
  };
  return { sink, writer, close, [Symbol.asyncDispose]: close };
}
