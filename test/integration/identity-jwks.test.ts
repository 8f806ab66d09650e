// JWKS rotation through the gateway on an injected clock: a new key is found by refetching, invented
// kids cost at most one JWKS request per cooldown, and cached keys outlive an IdP outage only up to
// their maximum age.
import { generateKeyPair, SignJWT } from 'jose';
import { describe, expect, inject, it } from 'vitest';
import { type IdentityGateway, startIdentityGateway } from '../harness/identity-gateway.js';
import { IDP_AUDIENCE, startIdp, type TestIdp } from '../harness/idp.js';

const info = inject('pg');
const COOLDOWN_MS = 10_000;
const REFRESH_MS = 60_000;
const MAX_AGE_MS = 120_000;

async function startPair() {
  const idp = await startIdp({ accessTokenTtlS: 600 });
  const clock = { offset: 0 };
  const gw = await startIdentityGateway(info, {
    identity: {
      oidc: {
        issuer: idp.issuer,
        audience: IDP_AUDIENCE,
        clock_tolerance_s: 0,
        jwks_cooldown_ms: COOLDOWN_MS,
        jwks_refresh_ms: REFRESH_MS,
        jwks_max_age_ms: MAX_AGE_MS,
      },
    },
    now: () => Date.now() + clock.offset,
  });
  return { idp, gw, clock };
}

/** Opens and closes a session; resolves with the SQLSTATE of a refusal, or 'ok'. */
async function attempt(gw: IdentityGateway, token: string): Promise<string> {
  const client = gw.client(token);
  try {
    await client.connect();
    await client.query('select 1');
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Tokens signed by a key the IdP never published, each under its own invented kid. */
async function inventedKidTokens(idp: TestIdp, count: number): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  const { privateKey } = await generateKeyPair('RS256');
  const sign = (kid: string) =>
    new SignJWT({ iss: idp.issuer, aud: IDP_AUDIENCE, sub: 'mallory', iat: now, exp: now + 300 })
      .setProtectedHeader({ alg: 'RS256', kid })
      .sign(privateKey);
  return Promise.all(Array.from({ length: count }, (_, i) => sign(`never-published-${i}`)));
}

describe('JWKS rotation and caching', () => {
  it('accepts a token signed with a rotated-in key once the cooldown allows a refetch', async () => {
    const { idp, gw, clock } = await startPair();
    await using _idp = idp;
    await using _gw = gw;
    const beforeRotation = await idp.token();
    expect(await attempt(gw, beforeRotation)).toBe('ok');
    expect(idp.requests.jwks).toBe(1);

    await idp.rotateKeys();
    const rotated = await idp.token();
    // Within the cooldown of the last fetch the new kid is unknown, and nothing is fetched.
    expect(await attempt(gw, rotated)).toBe('28P01');
    expect(gw.authFailures().at(-1)).toMatch(/^jwt: unknown kid "idp-key-/);
    expect(idp.requests.jwks).toBe(1);

    clock.offset += COOLDOWN_MS;
    expect(await attempt(gw, rotated)).toBe('ok');
    expect(idp.requests.jwks).toBe(2);
    // The key that was rotated out of signing stays published and keeps verifying.
    expect(await attempt(gw, beforeRotation)).toBe('ok');
    expect(idp.requests.jwks).toBe(2);
  });

  it('never-published kids are refused without a refetch storm', async () => {
    const { idp, gw, clock } = await startPair();
    await using _idp = idp;
    await using _gw = gw;
    expect(await attempt(gw, await idp.token())).toBe('ok');
    expect(idp.requests.jwks).toBe(1);

    const bogus = await inventedKidTokens(idp, 10);
    const storm = await Promise.all(bogus.map((t) => attempt(gw, t)));
    expect(storm).toEqual(bogus.map(() => '28P01'));
    expect(idp.requests.jwks).toBe(1);

    clock.offset += COOLDOWN_MS;
    const second = await Promise.all(bogus.map((t) => attempt(gw, t)));
    expect(second).toEqual(bogus.map(() => '28P01'));
    // One refetch for the whole burst after the cooldown, not one per token.
    expect(idp.requests.jwks).toBe(2);
    const reasons = gw.authFailures();
    expect(reasons).toHaveLength(20);
    for (const r of reasons) expect(r).toMatch(/^jwt: unknown kid "never-published-\d"$/);
  });

  it('keeps cached keys while the IdP is down, until their maximum age; never fails open', async () => {
    const { idp, gw, clock } = await startPair();
    await using _gw = gw;
    const token = await idp.token();
    expect(await attempt(gw, token)).toBe('ok');
    await idp.close();

    // Due for refresh: the refetch fails, the cached key still verifies.
    clock.offset += REFRESH_MS;
    expect(await attempt(gw, token)).toBe('ok');
    clock.offset += MAX_AGE_MS - REFRESH_MS - 1_000;
    expect(await attempt(gw, token)).toBe('ok');

    clock.offset += 1_000;
    expect(await attempt(gw, token)).toBe('28P01');
    expect(gw.authFailures()).toEqual([
      expect.stringMatching(
        /^jwt: identity provider unreachable: cached keys expired and refetch failed: /,
      ),
    ]);
  });
});
