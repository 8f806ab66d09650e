// Slow reader: a client that reads a ~1 GB result (and a 100 MB COPY TO STDOUT) in slow bursts through a
// CLI-spawned gateway. Backpressure must reach the upstream backend (it blocks in ClientWrite) and the
// gateway's resident memory must stay flat; the row count must be exact.
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { describe, expect, inject, it } from 'vitest';
import { type CliGateway, procMemory, startCliGateway } from '../harness/cli-gateway.js';
import { TEST_USERS } from '../harness/gateway.js';
import { type BackendFrame, describeFrame, RawConnection } from '../harness/raw-wire.js';

const info = inject('pg');
const MB = 1024 * 1024;
const MAX_GROWTH = 64 * MB;

async function adminClient(): Promise<pg.Client & AsyncDisposable> {
  const client = new pg.Client({
    host: info.host,
    port: info.port,
    user: info.superuser,
    database: info.database,
  });
  await client.connect();
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.end() });
}

/** Polls pg_stat_activity until the backend running the marked statement blocks writing to its socket. */
async function untilBackendBlocked(admin: pg.Client, marker: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const { rows } = await admin.query<{ wait_event: string | null }>(
      `select wait_event from pg_stat_activity
        where usename = $1 and pid <> pg_backend_pid() and position($2 in query) > 0`,
      [info.scramUser, marker],
    );
    if (rows[0]?.wait_event === 'ClientWrite') return;
    await delay(50);
  }
  throw new Error(`the upstream backend running ${marker} never blocked in ClientWrite`);
}

/** Resumes the socket until `bytes` more arrived (or `done` settles), then pauses it. */
function readBurst(conn: RawConnection, bytes: number, done: { finished: boolean }): Promise<void> {
  const target = conn.bytesReceived + bytes;
  return new Promise((resolve) => {
    const check = () => {
      if (conn.bytesReceived < target && !done.finished && !conn.isClosed) return;
      conn.socket.off('data', check);
      clearInterval(poll);
      conn.socket.pause();
      resolve();
    };
    // The 'data' listener runs after the frame parser's, so bytesReceived is current when it fires.
    conn.socket.on('data', check);
    const poll = setInterval(check, 20);
    conn.socket.resume();
  });
}

interface SlowReadResult {
  readonly frames: BackendFrame[];
  readonly stalledGrowth: number;
}

/**
 * Sends `sql`, reads a first burst, stalls until the upstream backend blocks on its socket (the gateway
 * stopped reading it), then reads the rest in bursts with rests in between.
 */
async function readSlowly(
  gw: CliGateway,
  conn: RawConnection,
  admin: pg.Client,
  sql: string,
  marker: string,
  baseline: number,
): Promise<SlowReadResult> {
  conn.keepRows = false;
  conn.dataRows = 0;
  conn.copyData = 0;
  conn.bytesReceived = 0;
  const done = { finished: false };
  const result = conn.until('Z').finally(() => {
    done.finished = true;
  });
  conn.socket.pause();
  conn.write(serialize.query(sql));
  await readBurst(conn, 32 * MB, done);
  expect(done.finished).toBe(false);
  await untilBackendBlocked(admin, marker);
  const stalledGrowth = procMemory(gw.pid).rss - baseline;
  while (!done.finished && !conn.isClosed) {
    await readBurst(conn, 16 * MB, done);
    await delay(5);
  }
  conn.socket.resume();
  return { frames: await result, stalledGrowth };
}

const tag = (frames: BackendFrame[]): string | undefined => {
  const c = frames.find((f) => f.type === 'C');
  return c?.body.toString('utf8', 0, c.body.length - 1);
};

describe('slow reader keeps the gateway flat', () => {
  it('relays a ~1 GB result and a 100 MB COPY TO STDOUT to a slow client with bounded memory', async () => {
    await using gw = await startCliGateway(info);
    await using admin = await adminClient();
    await using conn = await RawConnection.connect(gw.port);
    await conn.login(TEST_USERS.agent.name, TEST_USERS.agent.password);
    // Warm up: one 50 MB result at full speed, so the baseline includes the heap's steady state.
    conn.keepRows = false;
    const warm = await conn.query("select repeat('w', 1000) from generate_series(1, 50000)");
    expect(tag(warm)).toBe('SELECT 50000');

    const before = procMemory(gw.pid);
    const big = await readSlowly(
      gw,
      conn,
      admin,
      "select repeat('x', 1000) /* slow-reader-rows */ from generate_series(1, 1000000)",
      'slow-reader-rows',
      before.rss,
    );
    expect(big.frames.map(describeFrame)).toEqual(['T', 'C', 'Z']);
    expect(tag(big.frames)).toBe('SELECT 1000000');
    expect(conn.dataRows).toBe(1_000_000);
    expect(conn.bytesReceived).toBeGreaterThan(1000 * 1_000_000);
    expect(big.stalledGrowth, 'RSS growth while the reader stalled').toBeLessThan(MAX_GROWTH);
    const afterRows = procMemory(gw.pid);
    expect(afterRows.hwm - before.rss, 'peak RSS growth over the 1 GB result').toBeLessThan(
      MAX_GROWTH,
    );

    const copy = await readSlowly(
      gw,
      conn,
      admin,
      "copy (select repeat('y', 1000) /* slow-reader-copy */ from generate_series(1, 100000)) to stdout",
      'slow-reader-copy',
      before.rss,
    );
    expect(copy.frames.map(describeFrame)).toEqual(['H', 'c', 'C', 'Z']);
    expect(tag(copy.frames)).toBe('COPY 100000');
    expect(conn.copyData).toBe(100_000);
    expect(copy.stalledGrowth, 'RSS growth while the COPY reader stalled').toBeLessThan(MAX_GROWTH);
    expect(procMemory(gw.pid).hwm - before.rss, 'peak RSS growth after the COPY').toBeLessThan(
      MAX_GROWTH,
    );

    // The session is still in step after both streams.
    conn.keepRows = true;
    expect(RawConnection.rows(await conn.query('select 42'))).toEqual([['42']]);
  });
});
