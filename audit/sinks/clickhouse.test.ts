// The ClickHouse sink runs the very same SQL through @clickhouse/client; here the client talks to the
// ClickHouse engine in-process (chDB's @clickhouse/client connection), so migrations, the deduplication
// token, parameter binding and the read queries are exercised for real without a server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSessions, listStatements, statementStats } from '../queries.js';
import type { AuditSink } from '../sink.js';
import { rowsOf, sealedRecords } from '../testing/records.js';
import { verifySession } from '../verify.js';
import { createClickHouseSink } from './clickhouse.js';

let dir: string;
let sink: AuditSink;
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
const records = sealedRecords('s_ch', 5, T0);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pgward-ch-'));
  // chdb types its Connection against @clickhouse/client-common, a separate copy of the same interface.
  type ClientConnection = NonNullable<
    NonNullable<Parameters<typeof createClient>[0]>['connection']
  >;
  const connection = createChdbConnection({ path: dir }) as unknown as ClientConnection;
  const client = createClient({ connection });
  sink = createClickHouseSink({ client, database: 'pgward_ch', retentionDays: 30 });
  await sink.migrate();
});

afterAll(async () => {
  await sink?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ClickHouse sink (@clickhouse/client)', () => {
  it('migrates idempotently', async () => {
    await sink.migrate();
    const tables = await sink.select<{ name: string }>(
      'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
    );
    expect(tables.map((t) => t.name)).toEqual([
      'audit_meta',
      'schema_migrations',
      'session_events',
      'statements',
    ]);
  });

  it('inserts with the batch id as deduplication token: a replay stores nothing new', async () => {
    await sink.insert('b-1', rowsOf({ statements: records.slice(0, 3) }));
    await sink.insert('b-2', rowsOf({ statements: records.slice(3) }));
    await sink.insert('b-1', rowsOf({ statements: records.slice(0, 3) }));
    const page = await listStatements(sink, { sessionId: 's_ch' });
    expect(page.items.map((r) => r.seq)).toEqual([5, 4, 3, 2, 1]);
    expect((await verifySession(sink, 's_ch')).ok).toBe(true);
  });

  it('answers the same read queries as the chDB sink', async () => {
    const stats = await statementStats(sink, {
      from: new Date(T0).toISOString(),
      to: new Date(T0 + 3_600_000).toISOString(),
      bucketSeconds: 3600,
      by: 'identity',
    });
    expect(stats).toEqual([{ bucket: new Date(T0).toISOString(), key: 'svc-agent', count: 5 }]);
    expect((await listSessions(sink)).items).toEqual([]);
  });
});
