// Graceful shutdown of a CLI gateway on SIGTERM: idle sessions end at once with 57P01, a busy session
// finishes its statement first, new connections are refused, the process exits 0; a statement that
// outlasts timeouts.shutdown_ms is ended with 57P01 at the deadline (and cancelled upstream).
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { describe, expect, inject, it } from 'vitest';
import { startCliGateway } from '../harness/cli-gateway.js';
import { TEST_USERS } from '../harness/gateway.js';
import { describeFrame, errorFields, RawConnection } from '../harness/raw-wire.js';

const info = inject('pg');
const agent = TEST_USERS.agent;

async function withAdmin<T>(fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({
    host: info.host,
    port: info.port,
    user: info.superuser,
    database: info.database,
  });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/** Polls pg_stat_activity until `want` upstream backends (0 or more) run the marked statement. */
async function untilActive(marker: string, want: number, attempts = 400): Promise<void> {
  await withAdmin(async (admin) => {
    for (let i = 0; i < attempts; i++) {
      const { rows } = await admin.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
          where state = 'active' and pid <> pg_backend_pid() and position($1 in query) > 0`,
        [marker],
      );
      if (rows[0]?.n === want) return;
      await delay(25);
    }
    throw new Error(`never saw ${want} backends running ${marker}`);
  });
}

function connectError(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
  });
}

async function loggedIn(port: number): Promise<RawConnection> {
  const conn = await RawConnection.connect(port);
  await conn.login(agent.name, agent.password);
  return conn;
}

describe('graceful shutdown', () => {
  it('ends idle sessions at once, lets a busy one finish, refuses new ones and exits 0', async () => {
    await using gw = await startCliGateway(info);
    await using idle = await loggedIn(gw.port);
    await using busy = await loggedIn(gw.port);
    busy.write(serialize.query("select 'slept' from pg_sleep(2) /* shutdown-busy */"));
    await untilActive('shutdown-busy', 1);

    const events: string[] = [];
    const idleEnd = idle.expectError().then((e) => {
      events.push('idle FATAL');
      return e;
    });
    const busyFrames = busy.drain().then((frames) => {
      events.push('busy closed');
      return frames;
    });
    gw.child.kill('SIGTERM');

    const idleError = await idleEnd;
    expect(idleError).toMatchObject({ severity: 'FATAL', code: '57P01' });
    await idle.closed;
    // The listener is closed before sessions are drained, so a new client is refused now.
    expect(await connectError(gw.port)).toBe('ECONNREFUSED');

    const frames = await busyFrames;
    expect(events).toEqual(['idle FATAL', 'busy closed']);
    expect(frames.map(describeFrame)).toEqual([
      'T',
      'D',
      'C',
      'Z',
      expect.stringMatching(/^E\(57P01 /),
    ]);
    expect(RawConnection.rows(frames)).toEqual([['slept']]);
    expect(await gw.exited).toEqual({ code: 0, signal: null });
    await untilActive('shutdown-busy', 0);
  });

  it('ends a statement that outlasts timeouts.shutdown_ms with 57P01 at the deadline', async () => {
    await using gw = await startCliGateway(info, { config: { timeouts: { shutdown_ms: 300 } } });
    await using busy = await loggedIn(gw.port);
    const frames = busy.drain();
    busy.write(serialize.query('select pg_sleep(10) /* shutdown-deadline */'));
    await untilActive('shutdown-deadline', 1);
    gw.child.kill('SIGTERM');
    const received = await frames;
    expect(received.map(describeFrame)).toEqual([expect.stringMatching(/^E\(57P01 /)]);
    expect(errorFields(received[0]!.body).severity).toBe('FATAL');
    expect(await gw.exited).toEqual({ code: 0, signal: null });
  });

  // KNOWN BUG: Session.close() starts the upstream CancelRequest asynchronously, and cli/serve.ts calls
  // process.exit(0) as soon as gateway.shutdown() resolves, so the cancel never leaves the process and
  // the cut-off statement runs on upstream to its end. Flip to `it` once shutdown awaits the cancels.
  it('cancels the statement cut off at the deadline upstream before exiting', async () => {
    await using gw = await startCliGateway(info, { config: { timeouts: { shutdown_ms: 100 } } });
    await using busy = await loggedIn(gw.port);
    busy.write(serialize.query('select pg_sleep(20) /* shutdown-cut-off */'));
    await untilActive('shutdown-cut-off', 1);
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toEqual({ code: 0, signal: null });
    // A delivered cancel ends the statement within milliseconds; 2 s of polling is ample.
    await untilActive('shutdown-cut-off', 0, 80);
  });

  it('cancels upstream the statement of a client that disappears mid-statement', async () => {
    await using gw = await startCliGateway(info);
    await using busy = await loggedIn(gw.port);
    busy.write(serialize.query('select pg_sleep(30) /* client-vanished */'));
    await untilActive('client-vanished', 1);
    busy.socket.destroy();
    await untilActive('client-vanished', 0);
  });
});
