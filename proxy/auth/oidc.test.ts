// JWT access tokens: every refusal has its own clear reason; groups come from a claim path.
import { createPublicKey } from 'node:crypto';
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import * as client from 'openid-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/log.js';
import {
  createJwtVerifier,
  groupsFrom,
  issuerUrl,
  type OidcSettings,
  type TokenVerifier,
} from './oidc.js';

const ISSUER = 'https://idp.example.com';
const AUDIENCE = 'urn:pgward:gateway';
const T0 = 1_800_000_000_000;

const settings: OidcSettings = {
  issuer: ISSUER,
  audience: AUDIENCE,
  algorithms: ['RS256', 'ES256', 'EdDSA'],
  groupsClaim: 'groups',
  clockToleranceS: 5,
  fetchTimeoutMs: 1000,
  jwksCooldownMs: 30_000,
  jwksRefreshMs: 300_000,
  jwksMaxAgeMs: 3_600_000,
};

let rsa: { key: CryptoKey; jwk: JWK; spki: string };
let verify: TokenVerifier;

function verifier(overrides: Partial<OidcSettings> = {}): TokenVerifier {
  const config = new client.Configuration({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` }, 'pgward');
  return createJwtVerifier({
    settings: { ...settings, ...overrides },
    discovery: { configuration: async () => config },
    now: () => T0,
    log: silentLogger,
    fetch: (async () => Response.json({ keys: [rsa.jwk] })) as typeof fetch,
  });
}

const base = (): JWTPayload => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'alice',
  groups: ['analytics'],
  iat: T0 / 1000 - 10,
  exp: T0 / 1000 + 60,
});

const without = (claim: keyof JWTPayload): JWTPayload => {
  const { [claim]: _dropped, ...rest } = base();
  return rest;
};

const sign = (claims: JWTPayload, kid = 'k1', key: CryptoKey = rsa.key) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid }).sign(key);

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  rsa = {
    key: pair.privateKey,
    jwk: { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' },
    spki: await exportSPKI(pair.publicKey),
  };
  verify = verifier();
});

describe('JWT access tokens', () => {
  it('accepts a valid token: sub, groups, issuer and expiry', async () => {
    expect(await verify(await sign(base()))).toEqual({
      ok: true,
      identity: {
        sub: 'alice',
        groups: ['analytics'],
        issuer: ISSUER,
        via: 'jwt',
        expiresAt: T0 + 60_000,
      },
    });
  });

  it('allows the configured clock tolerance on exp and nbf', async () => {
    expect((await verify(await sign({ ...base(), exp: T0 / 1000 - 4 }))).ok).toBe(true);
    expect((await verify(await sign({ ...base(), nbf: T0 / 1000 + 4 }))).ok).toBe(true);
  });

  it.each<[string, () => Promise<string>, string | RegExp]>([
    [
      'expired',
      () => sign({ ...base(), exp: T0 / 1000 - 6 }),
      `jwt: token expired at ${new Date(T0 - 6000).toISOString()}`,
    ],
    [
      'not yet valid',
      () => sign({ ...base(), nbf: T0 / 1000 + 6 }),
      `jwt: token not yet valid (nbf ${new Date(T0 + 6000).toISOString()})`,
    ],
    [
      'wrong issuer',
      () => sign({ ...base(), iss: 'https://evil.example.com' }),
      'jwt: wrong issuer "https://evil.example.com" (expected "https://idp.example.com")',
    ],
    [
      'wrong audience',
      () => sign({ ...base(), aud: 'urn:other' }),
      'jwt: wrong audience "urn:other" (expected "urn:pgward:gateway")',
    ],
    [
      'alg none',
      async () => new UnsecuredJWT(base()).encode(),
      'jwt: algorithm "none" refused: the token is unsigned',
    ],
    [
      'HS256 signed with the public key',
      () =>
        new SignJWT(base())
          .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
          .sign(new TextEncoder().encode(rsa.spki)),
      'jwt: algorithm "HS256" not allowed (allowed: RS256, ES256, EdDSA); symmetric algorithms are never accepted',
    ],
    ['unknown kid', () => sign(base(), 'never-published'), 'jwt: unknown kid "never-published"'],
    [
      'tampered payload',
      async () => {
        const [h, , s] = (await sign(base())).split('.');
        const forged = Buffer.from(JSON.stringify({ ...base(), sub: 'root' })).toString(
          'base64url',
        );
        return `${h}.${forged}.${s}`;
      },
      'jwt: signature verification failed: the token was altered or signed with another key',
    ],
    ['missing exp', () => sign(without('exp')), 'jwt: missing claim "exp"'],
    ['missing sub', () => sign(without('sub')), 'jwt: missing claim "sub"'],
    ['garbage', async () => 'a.b.c', 'jwt: malformed token'],
    [
      'groups that are not strings',
      () => sign({ ...base(), groups: [1, 2] }),
      'jwt: groups claim "groups" is not a string array',
    ],
  ])('refuses a token that is %s', async (_name, make, reason) => {
    expect(await verify(await make())).toEqual({ ok: false, reason });
  });

  it('refuses an algorithm outside the allow-list even when the key would verify it', async () => {
    const token = await sign(base());
    expect(await verifier({ algorithms: ['ES256'] })(token)).toEqual({
      ok: false,
      reason: 'jwt: algorithm "RS256" not allowed (allowed: ES256)',
    });
  });

  it('a token signed by another key under a published kid fails its signature', async () => {
    const other = await generateKeyPair('RS256');
    expect(await verify(await sign(base(), 'k1', other.privateKey))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('signature verification failed'),
    });
    expect(createPublicKey(rsa.spki).asymmetricKeyType).toBe('rsa');
  });

  it('reads groups from a dotted path', async () => {
    const v = verifier({ groupsClaim: 'realm_access.roles' });
    const token = await sign({ ...base(), realm_access: { roles: ['ops', 'dba'] } });
    expect(await v(token)).toMatchObject({ ok: true, identity: { groups: ['ops', 'dba'] } });
  });
});

describe('groupsFrom', () => {
  it.each<[Record<string, unknown>, string, readonly string[] | null]>([
    [{ groups: ['a', 'b'] }, 'groups', ['a', 'b']],
    [{}, 'groups', []],
    [{ groups: null }, 'groups', []],
    [{ groups: 'solo' }, 'groups', ['solo']],
    [{ 'https://ns.example.com/groups': ['x'] }, 'https://ns.example.com/groups', ['x']],
    [{ a: { b: { c: ['deep'] } } }, 'a.b.c', ['deep']],
    [{ a: { b: 'x' } }, 'a.b.c', []],
    [{ a: ['x'] }, 'a.length', null],
    [{ groups: [1] }, 'groups', null],
    [{ groups: { admin: true } }, 'groups', null],
    [{}, 'constructor.name', []],
    [JSON.parse('{"__proto__":{"polluted":["x"]}}'), '__proto__.polluted', ['x']],
  ])('%j at %s', (claims, path, expected) => {
    const result = groupsFrom(claims, path);
    if (expected === null) expect(result.ok).toBe(false);
    else expect(result).toEqual({ ok: true, groups: expected });
  });
});

describe('issuerUrl', () => {
  it('requires https except on loopback', () => {
    expect(issuerUrl('https://idp.example.com').insecure).toBe(false);
    expect(issuerUrl('http://127.0.0.1:8080').insecure).toBe(true);
    expect(issuerUrl('http://localhost:8080/realms/x').insecure).toBe(true);
    expect(issuerUrl('http://[::1]:8080').insecure).toBe(true);
    expect(() => issuerUrl('http://idp.example.com')).toThrow(/must use https/);
    expect(() => issuerUrl('http://127.0.0.1.evil.com')).toThrow(/must use https/);
  });
});
