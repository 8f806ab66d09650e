// A session never outlives what opened it: a JWT, an introspected opaque token and a pgward credential
// that expire in about two seconds each end their session with FATAL 28000 at expiry.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type IdentityGateway, startIdentityGateway } from '../harness/identity-gateway.js';
import { IDP_AUDIENCE, IDP_CLIENTS, startIdp, type TestIdp } from '../harness/idp.js';

const info = inject('pg');

let idp: TestIdp;
let gw: IdentityGateway;

beforeAll(async () => {
  idp = await startIdp({ accessTokenTtlS: 2 });
  const signingKey = generateKeyPairSync('ed25519').privateKey.export({
    format: 'pem',
    type: 'pkcs8',
  });
  gw = await startIdentityGateway(info, {
    identity: {
      oidc: {
        issuer: idp.issuer,
        audience: IDP_AUDIENCE,
        introspection: {
          client_id: IDP_CLIENTS.gateway.id,
          client_secret: { env: 'TEST_INTROSPECTION_SECRET' },
        },
      },
      credentials: { signing_key: { env: 'TEST_SIGNING_KEY' }, max_ttl_s: 2 },
    },
    env: {
      TEST_INTROSPECTION_SECRET: IDP_CLIENTS.gateway.secret,
      TEST_SIGNING_KEY: String(signingKey),
    },
  });
});

afterAll(async () => {
  await gw?.[Symbol.asyncDispose]();
  await idp?.close();
});

/** Opens a session with `secret`, proves it works, then waits for the gateway to end it. */
async function sessionEnd(secret: string) {
  const client = gw.client(secret);
  const ended = new Promise<Error>((resolve) => client.once('error', resolve));
  try {
    await client.connect();
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    return await ended;
  } finally {
    await client.end().catch(() => {});
  }
}

const expired = {
  code: '28000',
  severity: 'FATAL',
  message: 'terminating connection because the credential that opened it expired',
  hint: 'Obtain a fresh token or pgward credential and reconnect.',
};

describe('session expiry', () => {
  it('ends a session opened with a JWT access token when the token expires', async () => {
    const token = await idp.token();
    const verdict = await gw.services.authenticator.authenticate({
      userHint: 'x',
      password: token,
      clientAddr: '127.0.0.1',
    });
    const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp;
    expect(verdict).toMatchObject({ ok: true, identity: { expiresAt: exp * 1000 } });
    expect(await sessionEnd(token)).toMatchObject(expired);
  });

  it('ends a session opened with an opaque token at the expiry introspection reported', async () => {
    expect(await sessionEnd(await idp.token('opaque'))).toMatchObject(expired);
  });

  it('ends a session opened with a pgward credential when the credential expires', async () => {
    const minted = await gw.services.minter!.mint(
      { sub: 'svc-agent', groups: ['analytics'], issuer: idp.issuer, via: 'jwt', expiresAt: null },
      'app',
    );
    if (!minted.ok) throw new Error(minted.reason);
    expect(await sessionEnd(minted.credential)).toMatchObject(expired);
  });
});
