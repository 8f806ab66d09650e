// Cluster mode (`workers: 2`) through the CLI: sessions spread over both workers, the BackendKeyData a
// client sees is the gateway's own (worker index in bits 22..29, never the upstream pid), and a
// CancelRequest accepted by either worker cancels the session on the worker that owns it.
import net from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { describe, expect, inject, it } from 'vitest';
import { createChdbSink } from '../../audit/sinks/chdb.js';
import { verifySession } from '../../audit/verify.js';
import { REPO_ROOT, startCliGateway } from '../harness/cli-gateway.js';

const info = inject('pg');
const SESSIONS = 8;
const MARKER = 'pgward-cluster-cancel';

const workerOf = (pid: number): number => (pid >>> 22) & 0xff;

interface KeyedClient extends pg.Client {
  readonly processID: number;
  readonly secretKey: number;
}

/** Sends a CancelRequest on a fresh connection and waits until the gateway closes it. */
function sendCancel(port: number, pid: number, secret: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(serialize.cancel(pid, secret)));
    socket.once('close', () => resolve());
  });
}

/** Polls pg_stat_activity until `count` upstream backends run the marked statement. */
async function untilRunning(admin: pg.Client, count: number, marker = MARKER): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const { rows } = await admin.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
        where state = 'active' and pid <> pg_backend_pid() and position($1 in query) > 0`,
      [marker],
    );
    if (rows[0]?.n === count) return;
    await delay(25);
  }
  throw new Error(`${count} backends never ran the marked statement together`);
}

describe('cluster mode', () => {
  it('spreads sessions over both workers and routes every cancel to the owning worker', async () => {
    await using gw = await startCliGateway(info, { config: { workers: 2 } });
    const listening = await gw.waitForLog((r) => r.msg === 'listening');
    expect(listening.workers).toBe(2);

    const admin = new pg.Client({
      host: info.host,
      port: info.port,
      user: info.superuser,
      database: info.database,
    });
    await admin.connect();
    const clients: KeyedClient[] = [];
    try {
      for (let i = 0; i < SESSIONS; i++) {
        const client = new pg.Client({ connectionString: gw.url() }) as KeyedClient;
        await client.connect();
        clients.push(client);
      }
      const keys = clients.map((c) => ({ pid: c.processID, secret: c.secretKey }));
      expect(new Set(keys.map((k) => k.pid)).size).toBe(SESSIONS);
      expect(new Set(keys.map((k) => workerOf(k.pid)))).toEqual(new Set([0, 1]));

      // The pid a client sees is the gateway's, never the upstream backend's.
      for (const [i, client] of clients.entries()) {
        const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
        expect(rows[0]!.pid).not.toBe(keys[i]!.pid);
      }

      const outcomes = clients.map((c) =>
        c.query(`select pg_sleep(30) /* ${MARKER} */`).then(
          () => 'completed',
          (err: { code?: string }) => err.code ?? 'no code',
        ),
      );
      await untilRunning(admin, SESSIONS);
      // Cancel worker 0's sessions first, then worker 1's: connections are handed to the workers in
      // turn, so some of the cancels land on the worker that does not own the session.
      const order = [...clients.keys()].sort(
        (a, b) => workerOf(keys[a]!.pid) - workerOf(keys[b]!.pid),
      );
      for (const i of order) {
        await sendCancel(gw.port, keys[i]!.pid, keys[i]!.secret);
        expect(await outcomes[i]).toBe('57014');
      }
      // Every session is still usable after its cancel.
      for (const client of clients) {
        expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
      }
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      await admin.end();
    }
    // SIGTERM to the primary reaches both workers, and the whole cluster exits cleanly.
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toEqual({ code: 0, signal: null });
  });

  it('ignores a CancelRequest with a wrong secret', async () => {
    await using gw = await startCliGateway(info, { config: { workers: 2 } });
    const admin = new pg.Client({
      host: info.host,
      port: info.port,
      user: info.superuser,
      database: info.database,
    });
    await admin.connect();
    const client = new pg.Client({ connectionString: gw.url() }) as KeyedClient;
    await client.connect();
    try {
      const running = client.query("select 'finished' as s from pg_sleep(1) /* wrong-secret */");
      await untilRunning(admin, 1, 'wrong-secret');
      // Both workers receive one wrong-secret cancel (connections are handed out in turn).
      await sendCancel(gw.port, client.processID, client.secretKey ^ 1);
      await sendCancel(gw.port, client.processID, client.secretKey ^ 1);
      await sendCancel(gw.port, client.processID ^ 1, client.secretKey);
      expect((await running).rows).toEqual([{ s: 'finished' }]);
    } finally {
      await client.end();
      await admin.end();
    }
  });

  it("stores every statement of both workers in the primary's audit store, one chain per session", async () => {
    await using gw = await startCliGateway(info, {
      config: {
        workers: 2,
        policy: { disabled: false, bundle_dir: `${REPO_ROOT}/policy/example-bundle` },
        audit: { enabled: true, chdb_path: 'audit-store', database: 'pgward' },
      },
    });
    const clients: KeyedClient[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const client = new pg.Client({ connectionString: gw.url() }) as KeyedClient;
      await client.connect();
      clients.push(client);
    }
    // Connections are handed out in turn: both workers write records.
    expect(new Set(clients.map((c) => workerOf(c.processID))).size).toBe(2);
    const PER_SESSION = 5;
    for (const client of clients)
      for (let n = 0; n < PER_SESSION; n++)
        await client.query(`select ${n} as n`).catch(() => null);
    // Half the sessions end; the rest are still open when the cluster is told to stop.
    for (const client of clients.slice(0, SESSIONS / 2)) await client.end();
    for (const client of clients.slice(SESSIONS / 2)) client.on('error', () => undefined);
    // Workers hand their last rows (the closes of the cut-off sessions) to the primary before they
    // exit; the primary flushes its writer.
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toEqual({ code: 0, signal: null });

    const sink = createChdbSink({
      path: path.join(gw.dir, 'audit-store'),
      database: 'pgward',
      retentionDays: 365,
    });
    try {
      const sessions = await sink.select<{ session_id: string; n: string | number }>(
        'SELECT session_id, count() AS n FROM {db:Identifier}.statements GROUP BY session_id',
      );
      expect(sessions).toHaveLength(SESSIONS);
      for (const row of sessions) {
        expect(Number(row.n)).toBe(PER_SESSION);
        expect((await verifySession(sink, row.session_id)).ok).toBe(true);
      }
      // Each session opened and closed, the close carrying the chain's length.
      const events = await sink.select<{ event: string; statement_count: string | number }>(
        'SELECT event, statement_count FROM {db:Identifier}.session_events',
      );
      expect(events.filter((e) => e.event === 'opened')).toHaveLength(SESSIONS);
      const closed = events.filter((e) => e.event === 'closed');
      expect(closed.map((e) => Number(e.statement_count))).toEqual(
        Array(SESSIONS).fill(PER_SESSION),
      );
    } finally {
      await sink.close();
    }
  });
});
