// Fixed bad-input cases at the boundaries, against a CLI-spawned gateway: declared lengths of 2^31-1 and
// below zero, messages exactly at and one past limits.max_message_bytes and max_startup_bytes, unknown
// protocol versions, SSLRequest with trailing plaintext, and the login-phase failures.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliGateway, startCliGateway } from '../harness/cli-gateway.js';
import { makeCertificates } from '../harness/exec.js';
import { TEST_USERS } from '../harness/gateway.js';
import {
  describeFrame,
  type ErrorFields,
  errorFields,
  frame,
  queryOfLength,
  RawConnection,
} from '../harness/raw-wire.js';

const info = inject('pg');
const MAX_MESSAGE = 8192;
const MAX_STARTUP = 2048;
const MAX_PASSWORD = 16384;
const INT32_MAX = 0x7fffffff;
const agent = TEST_USERS.agent;

let gw: CliGateway;
let certDir: string;

beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'pgward-boundaries-'));
  await makeCertificates(certDir);
  gw = await startCliGateway(info, {
    config: {
      tls: {
        cert: { file: join(certDir, 'server.crt') },
        key: { file: join(certDir, 'server.key') },
      },
      limits: { max_message_bytes: MAX_MESSAGE, max_startup_bytes: MAX_STARTUP },
    },
  });
});

afterAll(async () => {
  await gw?.[Symbol.asyncDispose]();
  if (certDir !== undefined) await rm(certDir, { recursive: true, force: true });
});

async function connect(): Promise<RawConnection> {
  return RawConnection.connect(gw.port);
}

/** The ErrorResponse the gateway sends, after which it must close the socket by itself. */
async function fatalThenClosed(conn: RawConnection): Promise<ErrorFields> {
  const error = await conn.expectError();
  expect(error.severity).toBe('FATAL');
  expect((await conn.drain()).map(describeFrame)).toEqual([]);
  await conn.closed;
  return error;
}

function startupPacket(length: number, code: number, payload = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(8 + payload.length);
  b.writeInt32BE(length | 0, 0);
  b.writeInt32BE(code | 0, 4);
  payload.copy(b, 8);
  return b;
}

/** A startup message padded through application_name to exactly `length` bytes. */
function startupOfLength(length: number): Buffer {
  const base = serialize.startup({ user: agent.name, database: 'app', application_name: '' });
  const padded = serialize.startup({
    user: agent.name,
    database: 'app',
    application_name: 'a'.repeat(length - base.length),
  });
  expect(padded.readInt32BE(0)).toBe(length);
  return padded;
}

describe('startup packet boundaries', () => {
  it.each([
    ['2^31-1', INT32_MAX, /message too large/],
    ['max_startup_bytes + 1', MAX_STARTUP + 1, /message too large/],
    ['-1', -1, /invalid packet length/],
    ['-2^31', -0x80000000, /invalid packet length/],
    ['7', 7, /invalid packet length/],
  ])('refuses a declared startup length of %s with 08P01', async (_, length, message) => {
    await using conn = await connect();
    conn.write(startupPacket(length, 196608));
    const error = await fatalThenClosed(conn);
    expect(error.code).toBe('08P01');
    expect(error.message).toMatch(message);
  });

  it('accepts a startup packet of exactly max_startup_bytes', async () => {
    await using conn = await connect();
    const packet = startupOfLength(MAX_STARTUP);
    conn.write(packet.subarray(0, 4));
    conn.write(packet.subarray(4));
    const auth = await conn.next();
    expect(auth?.type).toBe('R');
    expect(auth?.body.readInt32BE(0)).toBe(3);
    conn.write(serialize.password(agent.password));
    await conn.until('Z');
    expect(RawConnection.rows(await conn.query('select 1'))).toEqual([['1']]);
  });

  it('refuses a complete startup packet of max_startup_bytes + 1', async () => {
    await using conn = await connect();
    conn.write(startupOfLength(MAX_STARTUP + 1));
    const error = await fatalThenClosed(conn);
    expect(error).toMatchObject({ code: '08P01' });
    expect(error.message).toMatch(/message too large/);
  });

  it.each([
    ['2.0', 0x00020000],
    ['4.0', 0x00040000],
    ['9.9', 0x00090009],
  ])('refuses protocol version %s with 0A000', async (version, code) => {
    await using conn = await connect();
    const params = Buffer.from(`user\0${agent.name}\0\0`);
    conn.write(startupPacket(8 + params.length, code, params));
    const error = await fatalThenClosed(conn);
    expect(error.code).toBe('0A000');
    expect(error.message).toContain(version);
  });

  it('answers protocol 3.1 with NegotiateProtocolVersion and serves it as 3.0', async () => {
    await using conn = await connect();
    const params = Buffer.from(`user\0${agent.name}\0database\0app\0_pq_.future\0on\0\0`);
    conn.write(startupPacket(8 + params.length, 0x00030001, params));
    const negotiate = await conn.next();
    expect(negotiate?.type).toBe('v');
    expect(negotiate?.body.readInt32BE(0)).toBe(0);
    expect(negotiate?.body.readInt32BE(4)).toBe(1);
    expect(negotiate?.body.toString('utf8', 8)).toBe('_pq_.future\0');
    const auth = await conn.next();
    expect(auth?.type).toBe('R');
    conn.write(serialize.password(agent.password));
    await conn.until('Z');
    expect(RawConnection.rows(await conn.query('select 31'))).toEqual([['31']]);
  });

  it('refuses plaintext bytes sent in the same write as the SSLRequest', async () => {
    await using conn = await connect();
    conn.write(
      Buffer.concat([
        serialize.requestSsl(),
        serialize.startup({ user: agent.name, database: 'app' }),
      ]),
    );
    // No 'S' may precede the refusal: the trailing bytes would otherwise be read as TLS records.
    const first = await conn.next();
    expect(first?.type).toBe('E');
    const error = errorFields(first!.body);
    expect(error).toMatchObject({ severity: 'FATAL', code: '08P01' });
    expect(error.message).toMatch(/unencrypted data after SSLRequest/);
    expect(await conn.drain()).toEqual([]);
  });
});

describe('login-phase failures', () => {
  async function afterAuthRequest(user: string): Promise<RawConnection> {
    const conn = await connect();
    conn.write(serialize.startup({ user, database: 'app' }));
    const auth = await conn.next();
    expect(auth?.type).toBe('R');
    return conn;
  }

  it('serves a login pipelined in one write (startup, password and a query)', async () => {
    await using conn = await connect();
    conn.write(
      Buffer.concat([
        serialize.startup({ user: agent.name, database: 'app' }),
        serialize.password(agent.password),
        serialize.query('select 5 as pipelined'),
      ]),
    );
    const frames = await conn.until('Z');
    expect(frames[0]?.type).toBe('R');
    const afterLogin = await conn.until('Z');
    expect(RawConnection.rows(afterLogin)).toEqual([['5']]);
  });

  it('answers a password for an unknown user with 28P01', async () => {
    await using conn = await afterAuthRequest('no-such-identity');
    conn.write(serialize.password(agent.password));
    const error = await fatalThenClosed(conn);
    expect(error.code).toBe('28P01');
  });

  it('answers a wrong password with 28P01', async () => {
    await using conn = await afterAuthRequest(agent.name);
    conn.write(serialize.password(`${agent.password}-wrong`));
    const error = await fatalThenClosed(conn);
    expect(error.code).toBe('28P01');
    expect(error.message).toContain(agent.name);
  });

  it('answers a non-password message during login with 08P01', async () => {
    await using conn = await afterAuthRequest(agent.name);
    conn.write(serialize.query('select 1'));
    const error = await fatalThenClosed(conn);
    expect(error.code).toBe('08P01');
    expect(error.message).toMatch(/expected a password message/);
  });

  it('answers a password message over max_password_bytes with 08P01', async () => {
    await using conn = await afterAuthRequest(agent.name);
    conn.write(frame('p', Buffer.from('x\0'), MAX_PASSWORD + 1));
    const error = await fatalThenClosed(conn);
    expect(error.code).toBe('08P01');
    expect(error.message).toMatch(/message too large/);
  });

  it('answers a password message that declares 2^31-1 bytes with 08P01', async () => {
    await using conn = await afterAuthRequest(agent.name);
    conn.write(frame('p', Buffer.from('x\0'), INT32_MAX));
    const error = await fatalThenClosed(conn);
    expect(error.message).toMatch(/message too large/);
  });
});

describe('frontend message boundaries after login', () => {
  async function loggedIn(): Promise<RawConnection> {
    const conn = await connect();
    await conn.login(agent.name, agent.password);
    return conn;
  }

  it('relays a Query of exactly max_message_bytes and PostgreSQL answers it', async () => {
    await using conn = await loggedIn();
    const q = queryOfLength(MAX_MESSAGE);
    expect(q.readInt32BE(1)).toBe(MAX_MESSAGE);
    conn.write(q);
    const frames = await conn.until('Z');
    expect(frames.map(describeFrame)).toEqual(['T', 'D', 'C', 'Z']);
    expect(RawConnection.rows(frames)).toEqual([['1']]);
  });

  it('relays a forwarded Parse of exactly max_message_bytes', async () => {
    await using conn = await loggedIn();
    // Parse: length, statement name "", the SQL text, a zero parameter-type count.
    const overhead = 4 + 1 + 1 + 2 + 'select 2 /**/'.length;
    const parse = serialize.parse({ text: `select 2 /*${'y'.repeat(MAX_MESSAGE - overhead)}*/` });
    expect(parse.readInt32BE(1)).toBe(MAX_MESSAGE);
    conn.write(Buffer.concat([parse, serialize.sync()]));
    expect((await conn.until('Z')).map(describeFrame)).toEqual(['1', 'Z']);
  });

  it.each([
    ['a Query of max_message_bytes + 1', () => queryOfLength(MAX_MESSAGE + 1)],
    ['a Query declaring 2^31-1 bytes', () => frame('Q', Buffer.from('select 1\0'), INT32_MAX)],
    ['a Parse declaring max_message_bytes + 1', () => frame('P', Buffer.alloc(8), MAX_MESSAGE + 1)],
    ['a Bind declaring 2^31-1 bytes', () => frame('B', Buffer.alloc(8), INT32_MAX)],
  ])('closes the session on %s with 08P01 message too large', async (_, make) => {
    await using conn = await loggedIn();
    conn.write(make());
    const error = await fatalThenClosed(conn);
    expect(error.code).toBe('08P01');
    expect(error.message).toMatch(/message too large/);
  });

  it.each([
    ['-1', -1],
    ['-2^31', -0x80000000],
    ['3', 3],
  ])('closes the session on a Query declaring %s bytes with 08P01', async (_, length) => {
    await using conn = await loggedIn();
    conn.write(frame('Q', Buffer.from('select 1\0'), length));
    const error = await fatalThenClosed(conn);
    expect(error.code).toBe('08P01');
    expect(error.message).toMatch(/invalid message length/);
  });

  it('closes the session on a password message after login with 08P01', async () => {
    await using conn = await loggedIn();
    conn.write(serialize.password('late'));
    const error = await fatalThenClosed(conn);
    expect(error.message).toMatch(/invalid message type 0x70/);
  });

  it('still serves new sessions after every refusal', async () => {
    await using conn = await loggedIn();
    expect(RawConnection.rows(await conn.query('select 3'))).toEqual([['3']]);
    expect(gw.child.exitCode).toBeNull();
  });
});
