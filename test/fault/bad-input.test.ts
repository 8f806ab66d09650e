// Property-based bad input against a CLI-spawned gateway: random and garbled startup packets before
// login, invalid, oversized and truncated frames after login, and well-framed random messages. Every
// socket must be closed by the gateway (we never close it ourselves) and the process must survive.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliGateway, startCliGateway } from '../harness/cli-gateway.js';
import { makeCertificates } from '../harness/exec.js';
import { TEST_USERS } from '../harness/gateway.js';
import { errorFields, frame, RawConnection } from '../harness/raw-wire.js';

const info = inject('pg');
const MAX_MESSAGE = 8192;
const MAX_STARTUP = 2048;
/** Far above login_ms + the gateway's 1 s destroy fallback; only a hang reaches it. */
const HANG_GUARD_MS = 10_000;
const VALID_TYPES = 'QPBEDCHSFdcfX';
const LOGIN_SQLSTATES = ['08P01', '0A000', '28000', '28P01', '42501', '3D000'];

/** login_ms is low so half-sent startup packets end quickly; used for the pre-login properties. */
let gw: CliGateway;
/** Default login_ms (a full login includes the upstream's TLS + SCRAM) and a short idle_ms. */
let session: CliGateway;
let disposeCerts: () => Promise<void>;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pgward-bad-input-'));
  disposeCerts = () => rm(dir, { recursive: true, force: true });
  await makeCertificates(dir);
  const tls = {
    cert: { file: join(dir, 'server.crt') },
    key: { file: join(dir, 'server.key') },
  };
  const limits = { max_message_bytes: MAX_MESSAGE, max_startup_bytes: MAX_STARTUP };
  [gw, session] = await Promise.all([
    startCliGateway(info, { config: { tls, limits, timeouts: { login_ms: 300 } } }),
    startCliGateway(info, { config: { tls, limits, timeouts: { idle_ms: 500 } } }),
  ]);
});

afterAll(async () => {
  await gw?.[Symbol.asyncDispose]();
  await session?.[Symbol.asyncDispose]();
  await disposeCerts?.();
});

/** Writes `bytes` on a fresh connection and resolves with everything received once the gateway closes it. */
function sendUntilClosed(bytes: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ port: gw.port, host: '127.0.0.1' });
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`gateway left the socket open after ${Buffer.from(bytes).toString('hex')}`));
    }, HANG_GUARD_MS);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(guard);
      resolve(Buffer.concat(chunks));
    });
    socket.once('connect', () => socket.write(bytes));
  });
}

/** When the answer is a plain ErrorResponse, it must be FATAL with a login-phase SQLSTATE. */
function checkLoginAnswer(answer: Buffer): void {
  if (answer.length < 5 || answer[0] !== 0x45) return;
  const length = answer.readInt32BE(1);
  if (length + 1 > answer.length) return;
  const e = errorFields(answer.subarray(5, 1 + length));
  expect(e.severity).toBe('FATAL');
  expect(LOGIN_SQLSTATES).toContain(e.code);
}

function assertAlive(g: CliGateway): void {
  expect(g.child.exitCode).toBeNull();
  expect(g.child.signalCode).toBeNull();
}

const startupBytes = serialize.startup({ user: TEST_USERS.agent.name, database: 'app' });
const sslRequest = serialize.requestSsl();
const gssencRequest = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30]);

const preLoginInput = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 64 }),
  // A valid startup packet cut short.
  fc.integer({ min: 1, max: startupBytes.length - 1 }).map((n) => startupBytes.subarray(0, n)),
  // A valid startup packet with bytes overwritten (length field included).
  fc
    .array(fc.tuple(fc.nat(startupBytes.length - 1), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 6,
    })
    .map((edits) => {
      const b = Buffer.from(startupBytes);
      for (const [i, v] of edits) b[i] = v;
      return b;
    }),
  // A well-sized packet with a random protocol code and payload.
  fc.uint8Array({ minLength: 4, maxLength: 48 }).map((payload) => {
    const b = Buffer.alloc(4 + payload.length);
    b.writeInt32BE(b.length, 0);
    Buffer.from(payload).copy(b, 4);
    return b;
  }),
  // SSLRequest or GSSENCRequest followed by junk in the same write or alone.
  fc
    .tuple(fc.constantFrom(sslRequest, gssencRequest), fc.uint8Array({ maxLength: 40 }))
    .map(([head, tail]) => Buffer.concat([head, tail])),
);

describe('bad input before login', () => {
  it('closes every connection that sends random or garbled startup bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(preLoginInput, { minLength: 1, maxLength: 10 }), async (inputs) => {
        const answers = await Promise.all(inputs.map((bytes) => sendUntilClosed(bytes)));
        for (const a of answers) checkLoginAnswer(a);
        assertAlive(gw);
      }),
      { numRuns: 20 },
    );
  });
});

const anyLength = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const validType = fc.constantFrom(...VALID_TYPES.split(''));

type PostLoginCase = { bytes: Buffer; expect: RegExp; sqlstate: string };

const postLoginCase: fc.Arbitrary<PostLoginCase> = fc.oneof(
  // A type byte no frontend message has after login (including 'p', the password message).
  fc
    .tuple(
      fc.integer({ min: 0, max: 255 }).filter((t) => !VALID_TYPES.includes(String.fromCharCode(t))),
      anyLength,
      fc.uint8Array({ maxLength: 32 }),
    )
    .map(([t, len, tail]) => ({
      bytes: frame(String.fromCharCode(t), Buffer.from(tail), len),
      expect: /protocol violation: invalid message type/,
      sqlstate: '08P01',
    })),
  // A valid type with a length below the 4 the length field itself takes.
  fc
    .tuple(validType, fc.integer({ min: -0x80000000, max: 3 }), fc.uint8Array({ maxLength: 32 }))
    .map(([t, len, tail]) => ({
      bytes: frame(t, Buffer.from(tail), len),
      expect: /protocol violation: invalid message length/,
      sqlstate: '08P01',
    })),
  // A valid type declaring more than the limit.
  fc
    .tuple(
      validType,
      fc.integer({ min: MAX_MESSAGE + 1, max: 0x7fffffff }),
      fc.uint8Array({ maxLength: 32 }),
    )
    .map(([t, len, tail]) => ({
      bytes: frame(t, Buffer.from(tail), len),
      expect: /message too large/,
      sqlstate: '08P01',
    })),
  // A valid, in-limit frame cut short: nothing completes, so the idle timeout ends the session.
  fc
    .tuple(validType, fc.integer({ min: 40, max: MAX_MESSAGE }), fc.uint8Array({ maxLength: 32 }))
    .map(([t, len, tail]) => ({
      bytes: frame(t, Buffer.from(tail), len),
      expect: /idle-session timeout/,
      sqlstate: '57P05',
    })),
);

async function runPostLogin(c: PostLoginCase): Promise<void> {
  await using conn = await RawConnection.connect(session.port);
  await conn.login(TEST_USERS.agent.name, TEST_USERS.agent.password);
  conn.write(c.bytes);
  const guard = setTimeout(() => conn.socket.destroy(), HANG_GUARD_MS);
  const frames = await conn.drain();
  clearTimeout(guard);
  const errors = frames.filter((f) => f.type === 'E').map((f) => errorFields(f.body));
  expect(errors[0], `answer to ${c.bytes.subarray(0, 16).toString('hex')}`).toMatchObject({
    severity: 'FATAL',
    code: c.sqlstate,
  });
  expect(errors[0]!.message).toMatch(c.expect);
}

describe('bad input after login', () => {
  it('answers invalid, oversized and truncated frames with a FATAL and closes the socket', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(postLoginCase, { minLength: 1, maxLength: 8 }), async (cases) => {
        await Promise.all(cases.map(runPostLogin));
        assertAlive(session);
      }),
      { numRuns: 20 },
    );
  });

  it('relays well-framed random messages and stays in step or closes with an error', async () => {
    const relayedType = fc.constantFrom(...'QPBEDCHSdcf'.split(''));
    await fc.assert(
      fc.asyncProperty(relayedType, fc.uint8Array({ maxLength: 64 }), async (t, body) => {
        await using conn = await RawConnection.connect(session.port);
        await conn.login(TEST_USERS.agent.name, TEST_USERS.agent.password);
        conn.write(Buffer.concat([frame(t, Buffer.from(body)), serialize.sync()]));
        conn.write(serialize.query('select 1 as still_in_step'));
        const guard = setTimeout(() => conn.socket.destroy(), HANG_GUARD_MS);
        const seen: string[] = [];
        let inStep = false;
        for (let f = await conn.next(); f !== null; f = await conn.next()) {
          seen.push(f.type);
          if (f.type === 'D' && RawConnection.rows([f])[0]?.[0] === '1') inStep = true;
          if (inStep && f.type === 'Z') break;
        }
        clearTimeout(guard);
        // Either the session answered our query, or the upstream ended it with an error we saw.
        if (!inStep) expect(seen).toContain('E');
      }),
      { numRuns: 40 },
    );
    assertAlive(session);
  });
});

describe('after all the bad input', () => {
  it.each([
    ['pre-login', () => gw],
    ['post-login', () => session],
  ])(
    'the %s gateway still serves a query on a new connection and logged no internal fault',
    async (_, which) => {
      const g = which();
      await using conn = await RawConnection.connect(g.port);
      await conn.login(TEST_USERS.ops.name, TEST_USERS.ops.password);
      expect(RawConnection.rows(await conn.query('select 6 * 7'))).toEqual([['42']]);
      assertAlive(g);
      const faults = g.records.filter(
        (r) =>
          r.msg === 'unexpected login fault' || r.msg === 'login failed' || r.level === 'error',
      );
      expect(faults).toEqual([]);
    },
  );
});
