// Connection limits and timeouts of the gateway: limits.max_connections (53300 for the one too many),
// timeouts.login_ms (08P01 login timeout), timeouts.idle_ms (57P05, but never inside a transaction or a
// running statement).
import { setTimeout as delay } from 'node:timers/promises';
import { serialize } from 'pg-protocol';
import { describe, expect, inject, it } from 'vitest';
import { startGateway, TEST_USERS, type TestGateway } from '../harness/gateway.js';
import { type ErrorFields, RawConnection } from '../harness/raw-wire.js';

const info = inject('pg');
const agent = TEST_USERS.agent;

async function loggedIn(port: number): Promise<RawConnection> {
  const conn = await RawConnection.connect(port);
  await conn.login(agent.name, agent.password);
  return conn;
}

/** The gateway's FATAL, then the gateway closes the socket. */
async function fatalThenClosed(conn: RawConnection): Promise<ErrorFields> {
  const error = await conn.expectError();
  expect(error.severity).toBe('FATAL');
  expect(await conn.drain()).toEqual([]);
  await conn.closed;
  return error;
}

/** Open sockets the listener still holds, refused ones included (what server.close() waits for). */
function serverConnections(gw: TestGateway): Promise<number> {
  return new Promise((resolve, reject) =>
    gw.gateway.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
  );
}

async function untilServerConnections(gw: TestGateway, want: number): Promise<number> {
  let n = await serverConnections(gw);
  for (let i = 0; i < 300 && n !== want; i++) {
    await delay(10);
    n = await serverConnections(gw);
  }
  return n;
}

const status = (frames: { type: string; body: Buffer }[]): string =>
  String.fromCharCode(frames[frames.length - 1]!.body[0]!);

describe('limits.max_connections', () => {
  it('refuses connection N+1 with 53300 and frees the slot when one closes', async () => {
    await using gw = await startGateway(info, { config: { limits: { max_connections: 2 } } });
    await using first = await loggedIn(gw.port);
    const second = await loggedIn(gw.port);

    await using third = await RawConnection.connect(gw.port);
    const refused = await fatalThenClosed(third);
    expect(refused.code).toBe('53300');
    // The refused socket must not linger on the gateway side (it would hold an fd and block shutdown).
    expect(await untilServerConnections(gw, 2)).toBe(2);
    expect(RawConnection.rows(await first.query('select 1'))).toEqual([['1']]);

    second.write(serialize.end());
    await second.closed;
    // The server side of the socket closes on its own schedule; poll the gateway's own count.
    for (let i = 0; i < 200 && gw.gateway.connectionCount > 1; i++) await delay(10);
    expect(gw.gateway.connectionCount).toBe(1);
    await using fourth = await loggedIn(gw.port);
    expect(RawConnection.rows(await fourth.query('select 4'))).toEqual([['4']]);
  });

  it('counts connections that have not logged in yet', async () => {
    await using gw = await startGateway(info, { config: { limits: { max_connections: 1 } } });
    await using silent = await RawConnection.connect(gw.port);
    for (let i = 0; i < 200 && gw.gateway.connectionCount < 1; i++) await delay(10);
    await using refused = await RawConnection.connect(gw.port);
    expect((await fatalThenClosed(refused)).code).toBe('53300');
    expect(silent.isClosed).toBe(false);
    expect(await untilServerConnections(gw, 1)).toBe(1);
  });
});

describe('timeouts.login_ms', () => {
  it.each([
    ['sends nothing', Buffer.alloc(0)],
    ['sends half a startup packet', serialize.startup({ user: agent.name }).subarray(0, 9)],
    ['stops at the password prompt', serialize.startup({ user: agent.name, database: 'app' })],
  ])('ends a client that %s with 08P01 login timeout', async (_, bytes) => {
    await using gw = await startGateway(info, { config: { timeouts: { login_ms: 200 } } });
    await using conn = await RawConnection.connect(gw.port);
    if (bytes.length > 0) conn.write(bytes);
    const error = await fatalThenClosed(conn);
    expect(error.code).toBe('08P01');
    expect(error.message).toBe('login timeout expired');
  });

  it('does not end a session after login completed', async () => {
    await using gw = await startGateway(info, { config: { timeouts: { login_ms: 200 } } });
    await using conn = await loggedIn(gw.port);
    // A statement that outlasts login_ms proves the login timer is gone.
    expect(RawConnection.rows(await conn.query('select pg_sleep(0.5)::text'))).toEqual([['']]);
  });
});

describe('timeouts.idle_ms', () => {
  it('ends an idle session with 57P05 but leaves a session inside a transaction alone', async () => {
    await using gw = await startGateway(info, { config: { timeouts: { idle_ms: 300 } } });
    // The transaction opens first, so its idle timer would fire first if transactions were not exempt.
    await using inTx = await loggedIn(gw.port);
    expect(status(await inTx.query('begin'))).toBe('T');
    await using idle = await loggedIn(gw.port);

    const ended = await fatalThenClosed(idle);
    expect(ended.code).toBe('57P05');
    expect(inTx.isClosed).toBe(false);
    const inside = await inTx.query('select 1');
    expect(RawConnection.rows(inside)).toEqual([['1']]);
    expect(status(inside)).toBe('T');

    // Once the transaction ends the session is idle again and the timeout applies.
    expect(status(await inTx.query('commit'))).toBe('I');
    expect((await fatalThenClosed(inTx)).code).toBe('57P05');
  });

  it('does not end a session while its statement runs longer than idle_ms', async () => {
    await using gw = await startGateway(info, { config: { timeouts: { idle_ms: 200 } } });
    await using busy = await loggedIn(gw.port);
    const frames = await busy.query("select 'done' from pg_sleep(0.8)");
    expect(RawConnection.rows(frames)).toEqual([['done']]);
    expect((await fatalThenClosed(busy)).code).toBe('57P05');
  });

  it('ends a session idle inside a failed transaction only when it is over', async () => {
    await using gw = await startGateway(info, { config: { timeouts: { idle_ms: 200 } } });
    await using failed = await loggedIn(gw.port);
    await failed.query('begin');
    const error = await failed.query('select 1/0');
    expect(status(error)).toBe('E');
    await using witness = await loggedIn(gw.port);
    expect((await fatalThenClosed(witness)).code).toBe('57P05');
    expect(failed.isClosed).toBe(false);
    expect(status(await failed.query('rollback'))).toBe('I');
    expect((await fatalThenClosed(failed)).code).toBe('57P05');
  });
});
