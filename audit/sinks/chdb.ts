// The embedded store: chDB (the ClickHouse engine in-process) on a data directory, running the same SQL
// as the ClickHouse sink. chDB allows one data directory per process, and this sink runs one operation at
// a time on its Session (inserts are batched by the writer, so the queue is short).

import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { migrate } from '../migrate.js';
import type { AuditRows } from '../record.js';
import { type AuditSink, batchPayloads } from '../sink.js';
import { assertDatabaseName, parseJsonEachRow } from './common.js';

export interface ChdbSinkOptions {
  /** Data directory (created if absent). */
  readonly path: string;
  readonly database: string;
  readonly retentionDays: number;
  readonly now?: () => number;
}

const INSERT_SETTINGS = {
  input_format_parallel_parsing: 0,
  max_insert_threads: 1,
  max_threads: 1,
} as const;

export function createChdbSink(options: ChdbSinkOptions): AuditSink {
  const db = assertDatabaseName(options.database);
  mkdirSync(options.path, { recursive: true });
  // The embedded engine is a large native library: it is loaded when a chDB store is opened, not before.
  const { Session } = createRequire(import.meta.url)('chdb') as typeof import('chdb');
  const session = new Session(options.path);
  let tail: Promise<unknown> = Promise.resolve();
  let closed = false;
  /** Serialises every operation on the one native connection. */
  const exclusive = <T>(op: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error('the chDB audit sink is closed'));
    const run = tail.then(op, op);
    tail = run.catch(() => undefined);
    return run;
  };
  const bound = (params: Readonly<Record<string, unknown>> | undefined) => ({ ...params, db });

  const sink: AuditSink = {
    kind: 'chdb',
    command: (sql, params) =>
      exclusive(async () => {
        await session.queryBindAsync(sql, bound(params), { format: 'TSV' });
      }),
    select: <T>(sql: string, params?: Readonly<Record<string, unknown>>) =>
      exclusive(async () => {
        const result = await session.queryBindAsync(sql, bound(params), { format: 'JSONEachRow' });
        return parseJsonEachRow<T>(result.text());
      }),
    migrate: async () => {
      await migrate(sink, {
        retentionDays: options.retentionDays,
        now: options.now ?? Date.now,
      });
    },
    insert: (batchId: string, rows: AuditRows) =>
      exclusive(async () => {
        for (const { table, columns, data } of batchPayloads(rows)) {
          await session.insert({
            table: `${db}.${table}`,
            // Handed to the engine without a copy; the writer keeps the batch unchanged until it settles.
            values: data,
            format: 'JSONCompactEachRow',
            columns,
            settings: {
              // Honoured by MergeTree through non_replicated_deduplication_window (001_init.sql).
              insert_deduplication_token: batchId,
              // In process, next to the gateway: one parsing thread costs less CPU than a pool.
              ...INSERT_SETTINGS,
            },
          });
        }
      }),
    close: async () => {
      if (closed) return;
      await tail;
      closed = true;
      session.close();
    },
  };
  return sink;
}
