// The authenticator chain routes each secret by its shape, and the config builds the chain it asks for.
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/config.js';
import { silentLogger } from '../../lib/log.js';
import type { AuthResult } from './authenticator.js';
import { createAuthenticatorChain, createIdentityFromConfig } from './chain.js';

const tagged = (tag: string) => async (): Promise<AuthResult> => ({ ok: false, reason: tag });
const parts = {
  jwt: tagged('jwt'),
  introspection: tagged('introspection'),
  credential: tagged('credential'),
  password: { method: 'static-password' as const, authenticate: tagged('password') },
  staticUsers: new Set(['svc-static']),
};
const key = new TextEncoder().encode('k'.repeat(32));
const jws = (typ?: string) =>
  new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256', ...(typ ? { typ } : {}) }).sign(key);
const attempt = (auth: ReturnType<typeof createAuthenticatorChain>, password: string, user = 'u') =>
  auth.authenticate({ userHint: user, password, clientAddr: '127.0.0.1' });

describe('authenticator chain', () => {
  const chain = createAuthenticatorChain(parts);

  it.each<[string, () => Promise<string> | string, string, string?]>([
    ['a JWS with typ pgw', () => jws('pgw'), 'credential'],
    ['a JWS with typ PGW', () => jws('PGW'), 'credential'],
    ['a JWS with typ at+jwt', () => jws('at+jwt'), 'jwt'],
    ['a JWS without typ', () => jws(), 'jwt'],
    ['an unsigned JWT (empty signature)', () => new UnsecuredJWT({}).encode(), 'jwt'],
    ['an opaque token', () => 'q4hBQnvSYtMnMmHRhRRcWM-8VCko5SYeyxNKiQ2MoQ1', 'introspection'],
    ['three dotted segments that are not a JWS', () => 'a.b.c', 'introspection'],
    ['a static user’s password', () => 'hunter2', 'password', 'svc-static'],
    ['a JWS sent with a static user name', () => jws(), 'jwt', 'svc-static'],
  ])('routes %s', async (_name, make, expected, user) => {
    expect(await attempt(chain, await make(), user)).toEqual({ ok: false, reason: expected });
  });

  it('without introspection every non-JWS goes to the static passwords', async () => {
    const { introspection: _unused, ...rest } = parts;
    const noIntrospection = createAuthenticatorChain(rest);
    expect(await attempt(noIntrospection, 'opaque')).toEqual({ ok: false, reason: 'password' });
  });

  it('refuses a credential when credentials are not configured', async () => {
    const bare = createAuthenticatorChain({ jwt: parts.jwt });
    expect(await attempt(bare, await jws('pgw'))).toEqual({
      ok: false,
      reason: 'pgward credentials are not enabled',
    });
    expect(await attempt(bare, 'x')).toEqual({
      ok: false,
      reason: 'no authenticator accepts this secret',
    });
  });
});

describe('createIdentityFromConfig', () => {
  const signing = generateKeyPairSync('ed25519').privateKey.export({
    format: 'pem',
    type: 'pkcs8',
  });
  const env = { STATIC_PW: 'static-pw\n', SIGNING: String(signing), INTRO: 'secret' };
  const load = (identity: unknown) => {
    const loaded = loadConfig(
      JSON.stringify({
        upstreams: [{ name: 'app', host: 'h', database: 'd', user: 'u' }],
        policy: { disabled: true },
        auth: { users: [{ name: 'svc-static', password: { env: 'STATIC_PW' }, groups: ['g'] }] },
        identity,
      }),
      env,
      '.',
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    return createIdentityFromConfig({
      config: loaded.config,
      secret: loaded.secret,
      log: silentLogger,
    });
  };

  it('with no identity section keeps the static passwords and offers no bearer nor minter', async () => {
    const services = load({});
    expect(services.bearer).toBeNull();
    expect(services.minter).toBeNull();
    expect(await attempt(services.authenticator, 'static-pw', 'svc-static')).toMatchObject({
      ok: true,
      identity: { sub: 'svc-static', via: 'password' },
    });
  });

  it('builds a minter whose credentials the chain accepts', async () => {
    const services = load({ credentials: { signing_key: { env: 'SIGNING' }, max_ttl_s: 60 } });
    const minted = await services.minter!.mint(
      { sub: 'alice', groups: ['ops'], issuer: 'https://idp', via: 'jwt', expiresAt: null },
      'app',
    );
    if (!minted.ok) throw new Error(minted.reason);
    expect(await attempt(services.authenticator, minted.credential, 'anything')).toMatchObject({
      ok: true,
      identity: { sub: 'alice', groups: ['ops'], issuer: 'https://idp', via: 'credential' },
    });
  });

  it('refuses an http issuer that is not loopback and a credentials section without keys', () => {
    expect(() => load({ oidc: { issuer: 'http://idp.example.com', audience: 'a' } })).toThrow(
      /must use https/,
    );
    expect(() => load({ credentials: {} })).toThrow(/needs signing_key or verify_keys/);
    expect(
      load({ oidc: { issuer: 'https://idp.example.com', audience: 'a' } }).bearer,
    ).not.toBeNull();
  });
});
