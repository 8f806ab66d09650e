// OIDC identity on the wire with node-postgres against a real OpenID Provider: JWT and opaque access
// tokens open sessions; every bad token is refused with 28P01 and its own reason in the gateway log.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { generateKeyPair, type JWTPayload, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type IdentityGateway, startIdentityGateway } from '../harness/identity-gateway.js';
import {
  IDP_AUDIENCE,
  IDP_CLIENTS,
  IDP_OTHER_AUDIENCE,
  startIdp,
  type TestIdp,
} from '../harness/idp.js';

const info = inject('pg');

let idp: TestIdp;
let gw: IdentityGateway;

const identity = (issuer: string) => ({
  oidc: {
    issuer,
    audience: IDP_AUDIENCE,
    introspection: {
      client_id: IDP_CLIENTS.gateway.id,
      client_secret: { env: 'TEST_INTROSPECTION_SECRET' },
    },
  },
});
const env = { TEST_INTROSPECTION_SECRET: IDP_CLIENTS.gateway.secret };

beforeAll(async () => {
  idp = await startIdp({
    groups: { 'svc-agent': ['analytics', 'ops'], 'svc-opaque': ['reporting'] },
  });
  gw = await startIdentityGateway(info, { identity: identity(idp.issuer), env });
});

afterAll(async () => {
  await gw?.[Symbol.asyncDispose]();
  await idp?.close();
});

/** Connects with `secret` as the password and runs one query; the client is always closed. */
async function query(secret: string, sql = 'select current_user as who') {
  const client = gw.client(secret);
  try {
    await client.connect();
    return (await client.query(sql)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

const claims = (): JWTPayload => {
  const now = Math.floor(Date.now() / 1000);
  return { iss: idp.issuer, aud: IDP_AUDIENCE, sub: 'svc-agent', iat: now, exp: now + 300 };
};

describe('OIDC access tokens as the password', () => {
  it('a JWT access token from the IdP opens a session with its sub and groups', async () => {
    const rows = await query(await idp.token());
    expect(rows).toEqual([{ who: info.scramUser }]);
    const identityOf = await gw.services.authenticator.authenticate({
      userHint: 'x',
      password: await idp.token(),
      clientAddr: '127.0.0.1',
    });
    expect(identityOf).toMatchObject({
      ok: true,
      identity: { sub: 'svc-agent', groups: ['analytics', 'ops'], issuer: idp.issuer, via: 'jwt' },
    });
  });

  it('an opaque access token is introspected and opens a session', async () => {
    const token = await idp.token('opaque');
    expect(token.split('.')).toHaveLength(1);
    const before = idp.requests.introspection;
    expect(await query(token)).toEqual([{ who: info.scramUser }]);
    expect(idp.requests.introspection).toBe(before + 1);
    expect(
      await gw.services.authenticator.authenticate({
        userHint: 'x',
        password: token,
        clientAddr: '',
      }),
    ).toMatchObject({
      ok: true,
      identity: { sub: 'svc-opaque', groups: ['reporting'], via: 'introspection' },
    });
  });

  const badTokens: [string, () => Promise<string>, RegExp][] = [
    [
      'expired',
      () => idp.sign({ ...claims(), iat: claims().iat! - 600, exp: claims().iat! - 120 }),
      /^jwt: token expired at /,
    ],
    [
      'not yet valid',
      () => idp.sign({ ...claims(), nbf: claims().iat! + 600 }),
      /^jwt: token not yet valid \(nbf /,
    ],
    [
      'from the wrong issuer',
      () => idp.sign({ ...claims(), iss: 'https://evil.example.com' }),
      /^jwt: wrong issuer "https:\/\/evil\.example\.com"/,
    ],
    [
      'for the wrong audience',
      () => idp.token('agent', IDP_OTHER_AUDIENCE),
      /^jwt: wrong audience "urn:pgward:other-service" \(expected "urn:pgward:gateway"\)$/,
    ],
    [
      'unsigned (alg none)',
      async () => new UnsecuredJWT(claims()).encode(),
      /^jwt: algorithm "none" refused/,
    ],
    [
      'HS256-signed with the IdP public key',
      async () => {
        const spki = createPublicKey({ key: idp.publicJwk as JsonWebKey, format: 'jwk' }).export({
          type: 'spki',
          format: 'pem',
        });
        return new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', kid: idp.publicJwk.kid! })
          .sign(new TextEncoder().encode(String(spki)));
      },
      /^jwt: algorithm "HS256" not allowed .*symmetric algorithms are never accepted$/,
    ],
    [
      'signed with a key whose kid was never published',
      async () => {
        const { privateKey } = await generateKeyPair('RS256');
        return new SignJWT(claims())
          .setProtectedHeader({ alg: 'RS256', kid: 'never-published' })
          .sign(privateKey);
      },
      /^jwt: unknown kid "never-published"$/,
    ],
    [
      'a real token with a tampered payload',
      async () => {
        const [h, p, s] = (await idp.token()).split('.');
        const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
        const forged = { ...payload, sub: 'postgres', groups: ['admin'] };
        return `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${s}`;
      },
      /^jwt: signature verification failed/,
    ],
    [
      'opaque and unknown to the IdP (active: false)',
      async () => 'Zm9yZ2VkLW9wYXF1ZS10b2tlbi10aGF0LWRvZXMtbm90LWV4aXN0',
      /^introspection: token is not active \(active: false\)$/,
    ],
  ];

  it.each(badTokens)('refuses a token %s with 28P01 and logs why', async (_name, make, reason) => {
    const token = await make();
    const seen = gw.authFailures().length;
    await expect(query(token)).rejects.toMatchObject({
      code: '28P01',
      message: 'password authentication failed for user "token-user"',
    });
    const reasons = gw.authFailures().slice(seen);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(reason);
    // SECURITY: the token itself never reaches the log.
    expect(JSON.stringify(gw.logs)).not.toContain(token);
  });

  it('an unreachable IdP refuses every token (never fails open) and says so', async () => {
    await using down = await startIdp();
    const token = await down.token();
    const opaque = await down.token('opaque');
    await down.close();
    await using isolated = await startIdentityGateway(info, {
      identity: identity(down.issuer),
      env,
    });
    for (const secret of [token, opaque]) {
      const client = isolated.client(secret);
      await expect(client.connect()).rejects.toMatchObject({ code: '28P01' });
      await client.end().catch(() => {});
    }
    expect(isolated.authFailures()).toEqual([
      expect.stringMatching(/^jwt: identity provider unreachable: discovery failed/),
      expect.stringMatching(/^introspection: identity provider unreachable: discovery failed/),
    ]);
  });
});
