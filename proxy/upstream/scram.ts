// SCRAM-SHA-256 client for the gateway's own upstream login (RFC 5802 / RFC 7677, no channel binding).
// @see https://www.postgresql.org/docs/current/sasl-authentication.html

import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { PgwardError } from '../../lib/errors.js';

const pbkdf2Async = promisify(pbkdf2);

export interface ScramSession {
  readonly clientFirst: string;
  /** Computes the client-final message from the server-first message. */
  final(serverFirst: string): Promise<string>;
  /** Verifies the server's signature in its final message. */
  verify(serverFinal: string): void;
}

/** Salted passwords by (password, salt, iterations): the salt of a role is stable, so reconnects stay cheap. */
const saltedCache = new Map<string, Buffer>();
const SALTED_CACHE_MAX = 64;
const MAX_ITERATIONS = 1_000_000;

async function saltedPassword(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  const key = createHash('sha256')
    .update(password)
    .update('\0')
    .update(salt)
    .update(`\0${iterations}`)
    .digest('base64');
  const cached = saltedCache.get(key);
  if (cached !== undefined) return cached;
  const value = await pbkdf2Async(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  if (saltedCache.size >= SALTED_CACHE_MAX) saltedCache.delete(saltedCache.keys().next().value!);
  saltedCache.set(key, value);
  return value;
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();

function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out.set(part[0]!, part.slice(2));
  }
  return out;
}

function fail(message: string): never {
  throw new PgwardError('PGW_UPSTREAM_AUTH_FAILED', `SCRAM: ${message}`);
}

export function startScram(password: string): ScramSession {
  const nonce = randomBytes(18).toString('base64');
  const clientFirstBare = `n=*,r=${nonce}`;
  let serverSignature: Buffer | null = null;
  return {
    clientFirst: `n,,${clientFirstBare}`,
    async final(serverFirst) {
      const attrs = attributes(serverFirst);
      const serverNonce = attrs.get('r');
      const salt = attrs.get('s');
      const iterations = Number(attrs.get('i'));
      if (serverNonce === undefined || !serverNonce.startsWith(nonce) || serverNonce === nonce) {
        fail('server nonce does not extend the client nonce');
      }
      if (attrs.has('m')) fail('unsupported mandatory extension');
      if (salt === undefined || !Number.isInteger(iterations) || iterations < 1) {
        fail('malformed server-first message');
      }
      // SECURITY: a hostile server must not make the gateway spend unbounded CPU on key stretching.
      if (iterations > MAX_ITERATIONS)
        fail(`iteration count ${iterations} exceeds ${MAX_ITERATIONS}`);
      const salted = await saltedPassword(password, Buffer.from(salt, 'base64'), iterations);
      const clientKey = hmac(salted, 'Client Key');
      const storedKey = createHash('sha256').update(clientKey).digest();
      const withoutProof = `c=biws,r=${serverNonce}`;
      const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
      const clientSignature = hmac(storedKey, authMessage);
      const proof = Buffer.alloc(clientKey.length);
      for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
      serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
      return `${withoutProof},p=${proof.toString('base64')}`;
    },
    verify(serverFinal) {
      const attrs = attributes(serverFinal);
      const given = attrs.get('v');
      if (serverSignature === null || given === undefined) fail('missing server signature');
      const received = Buffer.from(given, 'base64');
      if (
        received.length !== serverSignature.length ||
        !timingSafeEqual(received, serverSignature)
      ) {
        fail('server signature does not match');
      }
    },
  };
}
