// The SCRAM-SHA-256 client against a server side written here with node:crypto, itself checked first against
// the RFC 7677 test vector (startScram draws its own nonce, so the vector cannot drive it directly).
// @see https://www.rfc-editor.org/rfc/rfc7677#section-3
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startScram } from './scram.js';

const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();
const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((byte, i) => byte ^ b[i]!));

/** What a server stores for a role (RFC 5802 section 3) and checks at login. */
function serverSide(password: string, salt: Buffer, iterations: number) {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const storedKey = sha256(hmac(salted, 'Client Key'));
  const serverKey = hmac(salted, 'Server Key');
  return {
    /** The proof a client with the right password sends. */
    expectedProof: (authMessage: string) =>
      xor(hmac(salted, 'Client Key'), hmac(storedKey, authMessage)).toString('base64'),
    /** Server-side check of a proof: H(proof XOR ClientSignature) must equal StoredKey. */
    proofValid: (authMessage: string, proof: string) =>
      sha256(xor(Buffer.from(proof, 'base64'), hmac(storedKey, authMessage))).equals(storedKey),
    signature: (authMessage: string) => hmac(serverKey, authMessage).toString('base64'),
  };
}

const RFC = {
  password: 'pencil',
  clientFirstBare: 'n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst:
    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  withoutProof: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  proof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverSignature: '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
  salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
  iterations: 4096,
};

/** Runs the client against the server side; returns the parsed exchange. */
async function exchange(clientPassword: string, serverPassword = clientPassword) {
  const session = startScram(clientPassword);
  const match = /^n,,(n=\*,r=([A-Za-z0-9+/=]+))$/.exec(session.clientFirst);
  if (match === null) throw new Error(`unexpected client-first ${session.clientFirst}`);
  const [, clientFirstBare, clientNonce] = match as unknown as [string, string, string];
  const server = serverSide(serverPassword, RFC.salt, RFC.iterations);
  const serverFirst = `r=${clientNonce}3rfcNHYJY1ZVvWVs7j,s=${RFC.salt.toString('base64')},i=${RFC.iterations}`;
  const clientFinal = await session.final(serverFirst);
  const final = /^(c=biws,r=([^,]+)),p=([A-Za-z0-9+/=]+)$/.exec(clientFinal);
  if (final === null) throw new Error(`unexpected client-final ${clientFinal}`);
  const [, withoutProof, finalNonce, proof] = final as unknown as [string, string, string, string];
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  return { session, server, clientNonce, finalNonce, serverFirst, authMessage, proof };
}

describe('the test server side', () => {
  it('reproduces the RFC 7677 proof and server signature', () => {
    const server = serverSide(RFC.password, RFC.salt, RFC.iterations);
    const authMessage = `${RFC.clientFirstBare},${RFC.serverFirst},${RFC.withoutProof}`;
    expect(server.expectedProof(authMessage)).toBe(RFC.proof);
    expect(server.proofValid(authMessage, RFC.proof)).toBe(true);
    expect(server.signature(authMessage)).toBe(RFC.serverSignature);
  });
});

describe('startScram', () => {
  it('sends a gs2 header without channel binding and a fresh 18-byte nonce', () => {
    const a = startScram('pencil');
    const b = startScram('pencil');
    expect(a.clientFirst).toMatch(/^n,,n=\*,r=[A-Za-z0-9+/]{24}$/);
    expect(a.clientFirst).not.toBe(b.clientFirst);
  });

  it('produces a proof the server accepts and verifies the server signature', async () => {
    const { session, server, clientNonce, finalNonce, serverFirst, authMessage, proof } =
      await exchange('pencil');
    expect(finalNonce).toBe(serverFirst.slice(2, serverFirst.indexOf(',')));
    expect(finalNonce.startsWith(clientNonce)).toBe(true);
    expect(server.proofValid(authMessage, proof)).toBe(true);
    expect(proof).toBe(server.expectedProof(authMessage));
    expect(() => session.verify(`v=${server.signature(authMessage)}`)).not.toThrow();
  });

  it('with a wrong password the server refuses the proof (and the cached salted password is per password)', async () => {
    // The right password first, so a salted password for this salt is cached.
    await exchange('pencil');
    const wrong = await exchange('pencil2', 'pencil');
    expect(wrong.server.proofValid(wrong.authMessage, wrong.proof)).toBe(false);
    const again = await exchange('pencil');
    expect(again.server.proofValid(again.authMessage, again.proof)).toBe(true);
  });

  it('SASLprep-style: the password is NFKC-normalised', async () => {
    // U+2168 (ROMAN NUMERAL NINE) normalises to "IX".
    const { server, authMessage, proof } = await exchange('\u2168', 'IX');
    expect(server.proofValid(authMessage, proof)).toBe(true);
  });

  it('refuses a server signature that does not match', async () => {
    const { session, server, authMessage } = await exchange('pencil');
    const good = Buffer.from(server.signature(authMessage), 'base64');
    const flipped = Buffer.from(good);
    flipped[0] = flipped[0]! ^ 1;
    const bad = [
      `v=${flipped.toString('base64')}`,
      `v=${good.subarray(0, 31).toString('base64')}`,
      'v=',
      'e=invalid-proof',
      '',
      RFC.serverSignature,
    ];
    for (const serverFinal of bad) {
      expect(() => session.verify(serverFinal), serverFinal).toThrow(
        expect.objectContaining({ code: 'PGW_UPSTREAM_AUTH_FAILED' }),
      );
    }
  });

  it('refuses to verify before the exchange', () => {
    const session = startScram('pencil');
    expect(() => session.verify(`v=${RFC.serverSignature}`)).toThrow(
      expect.objectContaining({ code: 'PGW_UPSTREAM_AUTH_FAILED' }),
    );
  });

  it('refuses a server nonce that does not extend the client nonce', async () => {
    const session = startScram('pencil');
    const nonce = session.clientFirst.slice('n,,n=*,r='.length);
    const salt = `s=${RFC.salt.toString('base64')},i=4096`;
    for (const serverFirst of [
      `r=${nonce},${salt}`,
      `r=x${nonce}abc,${salt}`,
      `r=${nonce.slice(0, -1)}abc,${salt}`,
      `r=abc,${salt}`,
      salt,
    ]) {
      await expect(session.final(serverFirst), serverFirst).rejects.toMatchObject({
        code: 'PGW_UPSTREAM_AUTH_FAILED',
        message: expect.stringMatching(/nonce/),
      });
    }
  });

  it('refuses a malformed server-first message', async () => {
    const session = startScram('pencil');
    const r = `r=${session.clientFirst.slice('n,,n=*,r='.length)}srv`;
    for (const serverFirst of [
      `${r},i=4096`,
      `${r},s=${RFC.salt.toString('base64')}`,
      `${r},s=${RFC.salt.toString('base64')},i=0`,
      `${r},s=${RFC.salt.toString('base64')},i=-1`,
      `${r},s=${RFC.salt.toString('base64')},i=1.5`,
      `${r},s=${RFC.salt.toString('base64')},i=many`,
      `${r},s=${RFC.salt.toString('base64')},i=`,
    ]) {
      await expect(session.final(serverFirst), serverFirst).rejects.toMatchObject({
        code: 'PGW_UPSTREAM_AUTH_FAILED',
        message: expect.stringMatching(/malformed/),
      });
    }
  });
});
