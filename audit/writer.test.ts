// The writer against a fake store: batching by size and time, spooling while the store fails, replay in
// order once it recovers (also after a restart), no duplicates, and the bounds (queue, spool).
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditEntry, AuditRows, StatementRecord } from './record.js';
import { lines } from './row-queue.js';
import { SpoolLockedError } from './spool.js';
import { sealedRecords, statementEntry } from './testing/records.js';
import { type AuditWriterOptions, createAuditWriter } from './writer.js';

/** Behaves like ClickHouse with a deduplication token: a batch id already stored is ignored. */
function fakeStore() {
  const stored: { id: string; rows: AuditRows }[] = [];
  const attempts: string[] = [];
  let mode: 'up' | 'down' | 'ambiguous' | 'hang' = 'up';
  let release: (() => void) | null = null;
  return {
    stored,
    attempts,
    set mode(m: typeof mode) {
      mode = m;
    },
    release: () => release?.(),
    seqs: () =>
      stored.flatMap((b) => lines(b.rows.statements).map((s) => (JSON.parse(s) as unknown[])[2])),
    sink: {
      async insert(id: string, rows: AuditRows) {
        attempts.push(id);
        if (mode === 'hang') await new Promise<void>((r) => (release = r));
        if (mode === 'down') throw new Error('store unavailable');
        if (!stored.some((b) => b.id === id)) stored.push({ id, rows });
        if (mode === 'ambiguous') throw new Error('connection reset after insert');
      },
    },
  };
}

const silent = { info() {}, warn() {}, error() {} };
const entries = (records: StatementRecord[]): AuditEntry[] => records.map(statementEntry);
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pgward-spool-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function writerWith(store: ReturnType<typeof fakeStore>, extra: Partial<AuditWriterOptions> = {}) {
  return createAuditWriter({
    sink: store.sink,
    spoolDir: dir,
    batchSize: 3,
    flushMs: 5,
    queueMax: 1000,
    spoolMaxBytes: 1 << 30,
    failClosed: false,
    log: silent,
    backoffMs: { min: 1, max: 5 },
    ...extra,
  });
}

describe('audit writer', () => {
  it('inserts in batches of batch_size, and a partial batch after flush_ms', async () => {
    const store = fakeStore();
    const writer = writerWith(store);
    for (const e of entries(sealedRecords('s1', 7))) writer.write(e);
    await expect.poll(() => store.seqs()).toEqual(range(7));
    expect(store.stored.map((b) => lines(b.rows.statements).length)).toEqual([3, 3, 1]);
    expect(writer.queueDepth).toBe(0);
    await writer.close();
  });

  it('sends a partial batch only once part of it has waited flush_ms, also under steady writes', async () => {
    vi.useFakeTimers();
    try {
      const store = fakeStore();
      const writer = writerWith(store, { batchSize: 10, flushMs: 50 });
      const records = entries(sealedRecords('s1', 7));
      for (const e of records.slice(0, 3)) writer.write(e);
      expect(store.attempts).toEqual([]);
      store.mode = 'hang';
      await vi.advanceTimersByTimeAsync(50);
      expect(store.attempts).toHaveLength(1);
      // Records written while that insert is in flight have not waited: they do not go right after it.
      for (const e of records.slice(3)) writer.write(e);
      store.mode = 'up';
      store.release();
      await vi.advanceTimersByTimeAsync(1);
      expect(store.stored.map((b) => lines(b.rows.statements).length)).toEqual([3]);
      await vi.advanceTimersByTimeAsync(50);
      expect(store.stored.map((b) => lines(b.rows.statements).length)).toEqual([3, 4]);
      expect(store.seqs()).toEqual(range(7));
      await writer.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('spools while the store is down and replays in order, once each, when it recovers', async () => {
    const store = fakeStore();
    store.mode = 'down';
    const writer = writerWith(store);
    for (const e of entries(sealedRecords('s1', 10))) writer.write(e);
    await writer.flush();
    expect(writer.spoolBytes).toBeGreaterThan(0);
    expect(writer.spooledBatches).toBe(4);
    expect(store.stored).toEqual([]);
    store.mode = 'up';
    await expect.poll(() => writer.spooledBatches).toBe(0);
    expect(store.seqs()).toEqual(range(10));
    expect(writer.spoolBytes).toBe(0);
    expect((await readdir(dir)).filter((f) => f.startsWith('segment-'))).toEqual([]);
    await writer.close();
  });

  it('rotates spool segments and deletes each once all its batches are stored', async () => {
    const store = fakeStore();
    store.mode = 'down';
    const writer = writerWith(store, { spoolSegmentBytes: 1 });
    for (const e of entries(sealedRecords('s1', 9))) writer.write(e);
    await writer.flush();
    expect((await readdir(dir)).filter((f) => f.startsWith('segment-'))).toHaveLength(3);
    store.mode = 'up';
    await expect.poll(() => store.seqs()).toEqual(range(9));
    expect((await readdir(dir)).filter((f) => f.startsWith('segment-'))).toEqual([]);
    await writer.close();
  });

  it('replays an insert that failed after storing without duplicating it (deduplication token)', async () => {
    const store = fakeStore();
    store.mode = 'ambiguous';
    const writer = writerWith(store);
    for (const e of entries(sealedRecords('s1', 3))) writer.write(e);
    await writer.flush();
    store.mode = 'up';
    await expect.poll(() => writer.spooledBatches).toBe(0);
    expect(store.attempts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(store.attempts).size).toBe(1);
    expect(store.seqs()).toEqual([1, 2, 3]);
    await writer.close();
  });

  it('replays a previous process spool first, before newer records', async () => {
    const down = fakeStore();
    down.mode = 'down';
    const records = sealedRecords('s1', 8);
    const first = writerWith(down);
    for (const e of entries(records.slice(0, 5))) first.write(e);
    await first.close();
    const store = fakeStore();
    const second = writerWith(store);
    expect(second.spooledBatches).toBe(2);
    for (const e of entries(records.slice(5))) second.write(e);
    await expect.poll(() => store.seqs()).toEqual(range(8));
    await second.close();
  });

  it('keeps at most queue_max records in memory, spilling to the spool while the store is slow', async () => {
    const store = fakeStore();
    store.mode = 'hang';
    const writer = writerWith(store, { queueMax: 5, batchSize: 2 });
    let deepest = 0;
    for (const e of entries(sealedRecords('s1', 40))) {
      writer.write(e);
      deepest = Math.max(deepest, writer.queueDepth);
    }
    expect(deepest).toBeLessThanOrEqual(5);
    expect(writer.spooledBatches).toBeGreaterThan(0);
    store.mode = 'up';
    store.release();
    await expect.poll(() => store.seqs()).toEqual(range(40));
    expect(writer.spooledBatches).toBe(0);
    await writer.close();
  });

  it('fail closed: stops accepting past spool_max_bytes and still spools every record', async () => {
    const store = fakeStore();
    store.mode = 'down';
    const writer = writerWith(store, { failClosed: true, spoolMaxBytes: 1 });
    expect(writer.accepting()).toBe(true);
    for (const e of entries(sealedRecords('s1', 6))) writer.write(e);
    await writer.flush();
    expect(writer.accepting()).toBe(false);
    expect(writer.droppedRecords).toBe(0);
    store.mode = 'up';
    await expect.poll(() => writer.accepting()).toBe(true);
    expect(store.seqs()).toEqual(range(6));
    await writer.close();
  });

  it('fail open: past spool_max_bytes records are dropped and counted, statements go on', async () => {
    const store = fakeStore();
    store.mode = 'down';
    const writer = writerWith(store, { spoolMaxBytes: 1 });
    for (const e of entries(sealedRecords('s1', 6))) writer.write(e);
    await writer.flush();
    expect(writer.accepting()).toBe(true);
    expect(writer.spooledBatches).toBe(1);
    expect(writer.droppedRecords).toBe(3);
    await writer.close();
  });

  it('skips a torn last line left by a crash mid-append and replays the whole batches', async () => {
    const [a, b] = sealedRecords('s1', 2);
    const line = JSON.stringify({ batch: 'old-1', rows: { statements: [a], sessions: [] } });
    const torn = JSON.stringify({ batch: 'old-2', rows: { statements: [b], sessions: [] } });
    await writeFile(path.join(dir, 'segment-00000001.jsonl'), `${line}\n${torn.slice(0, 40)}`);
    const store = fakeStore();
    const writer = writerWith(store);
    await expect.poll(() => store.seqs()).toEqual([1]);
    expect(store.attempts).toEqual(['old-1']);
    await writer.close();
  });

  it('close() against a hung store spools what is left by the deadline; the next start replays it', async () => {
    const hung = fakeStore();
    hung.mode = 'hang';
    const first = writerWith(hung);
    for (const e of entries(sealedRecords('s1', 5))) first.write(e);
    await first.close(50);
    expect(first.spooledBatches).toBe(2);
    const store = fakeStore();
    const second = writerWith(store);
    await expect.poll(() => store.seqs()).toEqual(range(5));
    await second.close();
  });

  it('refuses a spool directory another writer holds', async () => {
    const writer = writerWith(fakeStore());
    expect(() => writerWith(fakeStore())).toThrow(SpoolLockedError);
    await writer.close();
    await writerWith(fakeStore()).close();
  });
});
