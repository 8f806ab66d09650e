// JWKS cache: refresh age, maximum age while the IdP is down, and the unknown-kid cooldown, on a fake clock.
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/log.js';
import { createJwksCache } from './jwks-cache.js';

async function publicJwk(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
}

function fakeIdp(keys: JWK[]) {
  const state = { keys, down: false, requests: 0, body: null as string | null };
  const fetcher = (async () => {
    state.requests++;
    if (state.down) throw new TypeError('fetch failed');
    return new Response(state.body ?? JSON.stringify({ keys: state.keys }), {
      headers: { 'content-type': 'application/json' },
    });
  }) as typeof fetch;
  return { state, fetcher };
}

function setup(keys: JWK[]) {
  const idp = fakeIdp(keys);
  const clock = { t: 1_000_000 };
  const cache = createJwksCache({
    jwksUri: async () => new URL('https://idp.test/jwks'),
    timeoutMs: 1000,
    cooldownMs: 30_000,
    refreshMs: 300_000,
    maxAgeMs: 3_600_000,
    now: () => clock.t,
    log: silentLogger,
    fetch: idp.fetcher,
  });
  return { ...idp, clock, cache };
}

const header = (kid: string) => ({ alg: 'ES256', kid });

describe('jwks cache', () => {
  it('fetches once and serves known kids from the cache', async () => {
    const { cache, state } = setup([await publicJwk('a')]);
    for (let i = 0; i < 5; i++) expect((await cache.keyFor(header('a'))).ok).toBe(true);
    expect(state.requests).toBe(1);
  });

  it('refetches an unknown kid at most once per cooldown', async () => {
    const { cache, state, clock } = setup([await publicJwk('a')]);
    await cache.keyFor(header('a'));
    clock.t += 30_000;
    for (let i = 0; i < 20; i++) {
      expect(await cache.keyFor(header(`invented-${i}`))).toMatchObject({
        ok: false,
        kind: 'unknown-kid',
        reason: `unknown kid "invented-${i}"`,
      });
    }
    expect(state.requests).toBe(2);
    clock.t += 29_999;
    await cache.keyFor(header('invented'));
    expect(state.requests).toBe(2);
    clock.t += 1;
    await cache.keyFor(header('invented'));
    expect(state.requests).toBe(3);
  });

  it('finds a rotated key by refetching after the cooldown', async () => {
    const { cache, state, clock } = setup([await publicJwk('a')]);
    await cache.keyFor(header('a'));
    state.keys = [await publicJwk('b'), ...state.keys];
    expect(await cache.keyFor(header('b'))).toMatchObject({ ok: false, kind: 'unknown-kid' });
    clock.t += 30_000;
    expect((await cache.keyFor(header('b'))).ok).toBe(true);
  });

  it('keeps cached keys working while the IdP is down, until the maximum age', async () => {
    const { cache, state, clock } = setup([await publicJwk('a')]);
    await cache.keyFor(header('a'));
    state.down = true;
    clock.t += 300_000; // due for refresh: the refetch fails, the cached key still serves
    expect((await cache.keyFor(header('a'))).ok).toBe(true);
    clock.t += 3_600_000 - 300_000 - 1;
    expect((await cache.keyFor(header('a'))).ok).toBe(true);
    clock.t += 1;
    expect(await cache.keyFor(header('a'))).toMatchObject({
      ok: false,
      kind: 'unreachable',
      reason: expect.stringMatching(/^identity provider unreachable: cached keys expired/),
    });
    state.down = false;
    clock.t += 30_000;
    expect((await cache.keyFor(header('a'))).ok).toBe(true);
  });

  it('an unknown kid while the IdP is down is an unreachable IdP, not a silent pass', async () => {
    const { cache, state, clock } = setup([await publicJwk('a')]);
    await cache.keyFor(header('a'));
    state.down = true;
    clock.t += 30_000;
    expect(await cache.keyFor(header('b'))).toMatchObject({
      ok: false,
      kind: 'unreachable',
      reason: 'identity provider unreachable: unknown kid "b"; refetch failed: fetch failed',
    });
  });

  it('never having reached the IdP refuses, and retries only after the cooldown', async () => {
    const { cache, state, clock } = setup([await publicJwk('a')]);
    state.down = true;
    for (let i = 0; i < 3; i++) {
      expect(await cache.keyFor(header('a'))).toMatchObject({ ok: false, kind: 'unreachable' });
    }
    expect(state.requests).toBe(1);
    state.down = false;
    clock.t += 30_000;
    expect((await cache.keyFor(header('a'))).ok).toBe(true);
  });

  it('shares one fetch between concurrent lookups', async () => {
    const { cache, state } = setup([await publicJwk('a')]);
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.keyFor(header('a'))));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(state.requests).toBe(1);
  });

  it.each([
    ['a body that is not JSON', 'not json'],
    ['a body without keys', '{"foo":[]}'],
    ['more than 100 keys', JSON.stringify({ keys: Array.from({ length: 101 }, () => ({})) })],
    ['more than 256 KiB', JSON.stringify({ keys: [], pad: 'x'.repeat(256 * 1024) })],
  ])('refuses %s', async (_name, body) => {
    const { cache, state } = setup([]);
    state.body = body;
    expect(await cache.keyFor(header('a'))).toMatchObject({ ok: false, kind: 'unreachable' });
  });

  it('says so when a token without kid matches several keys', async () => {
    const { cache } = setup([await publicJwk('a'), await publicJwk('b')]);
    expect(await cache.keyFor({ alg: 'ES256' })).toMatchObject({
      ok: false,
      reason: 'token has no kid and several keys match',
    });
  });
});
