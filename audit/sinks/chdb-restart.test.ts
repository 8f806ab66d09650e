// chDB across restarts: a batch replayed after reopening is still deduplicated, a changed retention_days
// alters the TTL once, and tampering inside the store is caught by verifySession.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditSink } from '../sink.js';
import { rowsOf, sealedRecords } from '../testing/records.js';
import { verifySession } from '../verify.js';
import { createChdbSink } from './chdb.js';

let dir: string;
let sink: AuditSink | null = null;
const records = sealedRecords('s_restart', 4, Date.now() - 60_000);

const open = async (retentionDays: number) => {
  await sink?.close();
  sink = createChdbSink({ path: dir, database: 'pgward', retentionDays });
  await sink.migrate();
  return sink;
};
const count = async (s: AuditSink) =>
  Number(
    (await s.select<{ n: string }>('SELECT count() AS n FROM {db:Identifier}.statements'))[0]?.n,
  );

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pgward-chdb-restart-'));
});

afterAll(async () => {
  await sink?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('chDB sink across restarts', () => {
  it('deduplicates a batch replayed after the store was reopened', async () => {
    const first = await open(30);
    await first.insert('batch-x', rowsOf({ statements: records }));
    const second = await open(30);
    await second.insert('batch-x', rowsOf({ statements: records }));
    expect(await count(second)).toBe(4);
    expect((await verifySession(second, 's_restart')).ok).toBe(true);
  });

  it('applies a changed retention_days to both tables, once', async () => {
    const s = await open(60);
    const tables = await s.select<{ name: string; engine_full: string }>(
      "SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND name IN ('statements', 'session_events')",
    );
    expect(tables).toHaveLength(2);
    for (const t of tables) expect(t.engine_full).toMatch(/toIntervalDay\(_?CAST\(60/i);
    const meta = await s.select<{ value: string }>(
      "SELECT value FROM {db:Identifier}.audit_meta FINAL WHERE key = 'retention_days'",
    );
    expect(meta).toEqual([{ value: '60' }]);
    // Each migration file was applied once across the restarts.
    const versions = await s.select<{ version: number }>(
      'SELECT version FROM {db:Identifier}.schema_migrations ORDER BY version',
    );
    expect(versions.map((v) => Number(v.version))).toEqual([1, 2]);
  });

  it('reports a record changed or deleted inside the store', async () => {
    const s = await open(60);
    await s.command(
      "ALTER TABLE {db:Identifier}.statements UPDATE outcome = 'blocked' WHERE session_id = {sid:String} AND seq = 2 SETTINGS mutations_sync = 2",
      { sid: 's_restart' },
    );
    expect((await verifySession(s, 's_restart')).problems.map((p) => [p.kind, p.seq])).toEqual([
      ['changed', 2],
    ]);
    await s.command(
      'ALTER TABLE {db:Identifier}.statements DELETE WHERE session_id = {sid:String} AND seq = 3 SETTINGS mutations_sync = 2',
      { sid: 's_restart' },
    );
    expect((await verifySession(s, 's_restart')).problems.map((p) => [p.kind, p.seq])).toEqual([
      ['changed', 2],
      ['missing', 3],
    ]);
  });
});
