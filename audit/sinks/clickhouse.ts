// The ClickHouse server store through @clickhouse/client, running the same SQL as the chDB sink. Each
// batch is inserted with insert_deduplication_token = its batch id, so a replay never duplicates rows.

import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { migrate } from '../migrate.js';
import type { AuditRows } from '../record.js';
import { type AuditSink, batchPayloads } from '../sink.js';
import { assertDatabaseName } from './common.js';

export interface ClickHouseSinkOptions {
  /** http(s)://user:password@host:port — a secret; never logged. */
  readonly url?: string;
  /** A client built elsewhere (tests plug chDB's @clickhouse/client connection in here). */
  readonly client?: ClickHouseClient;
  readonly database: string;
  readonly retentionDays: number;
  /** Per request; an insert that times out is spooled and replayed under the same token. */
  readonly requestTimeoutMs?: number;
  readonly now?: () => number;
}

export function createClickHouseSink(options: ClickHouseSinkOptions): AuditSink {
  const db = assertDatabaseName(options.database);
  const client =
    options.client ??
    createClient({
      ...(options.url !== undefined ? { url: options.url } : {}),
      request_timeout: options.requestTimeoutMs ?? 30_000,
      application: 'pgward-audit',
    });
  const bound = (params: Readonly<Record<string, unknown>> | undefined) => ({ ...params, db });

  const sink: AuditSink = {
    kind: 'clickhouse',
    command: async (sql, params) => {
      await client.command({ query: sql, query_params: bound(params) });
    },
    select: async <T>(sql: string, params?: Readonly<Record<string, unknown>>) => {
      const result = await client.query({
        query: sql,
        query_params: bound(params),
        format: 'JSONEachRow',
      });
      return result.json<T>();
    },
    migrate: async () => {
      await migrate(sink, {
        retentionDays: options.retentionDays,
        now: options.now ?? Date.now,
      });
    },
    insert: async (batchId: string, rows: AuditRows) => {
      for (const { table, columns, data } of batchPayloads(rows)) {
        // The lines go as the request body, unparsed; names are checked identifiers and fixed columns.
        const result = await client.exec({
          query: `INSERT INTO ${db}.${table} (${columns.join(', ')}) FORMAT JSONCompactEachRow`,
          values: Readable.from([data]),
          clickhouse_settings: { insert_deduplication_token: batchId },
        });
        result.stream.resume();
        await finished(result.stream);
      }
    },
    close: () => client.close(),
  };
  return sink;
}
