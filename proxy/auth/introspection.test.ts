// Opaque tokens through RFC 7662 introspection: the gateway authenticates as a client, and only an
// active, unexpired token for this audience and issuer becomes an identity.
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { createIntrospectionVerifier } from './introspection.js';
import type { OidcSettings } from './oidc.js';

const ISSUER = 'https://idp.example.com';
const T0 = 1_800_000_000_000;
const settings: OidcSettings = {
  issuer: ISSUER,
  audience: 'urn:pgward:gateway',
  algorithms: ['RS256'],
  groupsClaim: 'groups',
  clockToleranceS: 5,
  fetchTimeoutMs: 1000,
  jwksCooldownMs: 30_000,
  jwksRefreshMs: 300_000,
  jwksMaxAgeMs: 3_600_000,
  introspection: { clientId: 'pgward-gateway', clientSecret: 's3cret' },
};

function verifierAnswering(answer: (req: { body: URLSearchParams; auth: string }) => Response) {
  const config = new client.Configuration(
    { issuer: ISSUER, introspection_endpoint: `${ISSUER}/introspect` },
    'pgward-gateway',
    undefined,
    client.ClientSecretBasic('s3cret'),
  );
  const seen: { body: URLSearchParams; auth: string }[] = [];
  config[client.customFetch] = async (_url, options) => {
    const req = {
      body: new URLSearchParams(String(options.body)),
      auth: options.headers.authorization ?? '',
    };
    seen.push(req);
    return answer(req);
  };
  const verify = createIntrospectionVerifier({
    settings,
    discovery: { configuration: async () => config },
    now: () => T0,
  });
  return { verify, seen };
}

const active = {
  active: true,
  iss: ISSUER,
  aud: 'urn:pgward:gateway',
  sub: 'alice',
  client_id: 'svc',
  exp: T0 / 1000 + 60,
  groups: ['analytics'],
  token_type: 'Bearer',
};

describe('introspection', () => {
  it('authenticates with client_secret_basic and maps an active token to an identity', async () => {
    const { verify, seen } = verifierAnswering(() => Response.json(active));
    expect(await verify('opaque-token')).toEqual({
      ok: true,
      identity: {
        sub: 'alice',
        groups: ['analytics'],
        issuer: ISSUER,
        via: 'introspection',
        expiresAt: T0 + 60_000,
      },
    });
    expect(seen[0]!.body.get('token')).toBe('opaque-token');
    // RFC 6749 §2.3.1: the id and secret are form-encoded before base64.
    const basic = Buffer.from(seen[0]!.auth.replace(/^Basic /, ''), 'base64').toString();
    expect(basic.split(':').map(decodeURIComponent)).toEqual(['pgward-gateway', 's3cret']);
  });

  it('a client-credentials token without sub is its client, and aud may be an array', async () => {
    const { verify } = verifierAnswering(() =>
      Response.json({ ...active, sub: undefined, aud: ['x', 'urn:pgward:gateway'] }),
    );
    expect(await verify('t')).toMatchObject({ ok: true, identity: { sub: 'svc' } });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['inactive', { active: false }, 'introspection: token is not active (active: false)'],
    [
      'active as a string',
      { ...active, active: 'true' },
      'introspection: invalid introspection response: invalid response encountered: "response" body "active" property must be a boolean',
    ],
    [
      'expired',
      { ...active, exp: T0 / 1000 - 6 },
      `introspection: token expired at ${new Date(T0 - 6000).toISOString()}`,
    ],
    [
      'not yet valid',
      { ...active, nbf: T0 / 1000 + 6 },
      `introspection: token not yet valid (nbf ${new Date(T0 + 6000).toISOString()})`,
    ],
    ['without exp', { ...active, exp: undefined }, 'introspection: missing claim "exp"'],
    [
      'for another audience',
      { ...active, aud: 'urn:other' },
      'introspection: wrong audience "urn:other" (expected "urn:pgward:gateway")',
    ],
    [
      'without audience',
      { ...active, aud: undefined },
      'introspection: wrong audience null (expected "urn:pgward:gateway")',
    ],
    [
      'from another issuer',
      { ...active, iss: 'https://evil.example.com' },
      'introspection: wrong issuer "https://evil.example.com" (expected "https://idp.example.com")',
    ],
    [
      'without any subject',
      { ...active, sub: undefined, client_id: undefined },
      'introspection: missing claim "sub"',
    ],
    [
      'with malformed groups',
      { ...active, groups: [{}] },
      'introspection: groups claim "groups" is not a string array',
    ],
  ])('refuses a token that is %s', async (_name, body, reason) => {
    const { verify } = verifierAnswering(() => Response.json(body));
    expect(await verify('t')).toEqual({ ok: false, reason });
  });

  it('says the IdP refused the gateway when its client credentials are wrong', async () => {
    const { verify } = verifierAnswering(() =>
      Response.json({ error: 'invalid_client' }, { status: 401 }),
    );
    expect(await verify('t')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(
        /^introspection: the identity provider refused the request: invalid_client/,
      ),
    });
  });

  it('an unreachable IdP fails closed with its own reason', async () => {
    const { verify } = verifierAnswering(() => {
      throw new TypeError('fetch failed');
    });
    expect(await verify('t')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^introspection: identity provider unreachable/),
    });
    const down = createIntrospectionVerifier({
      settings,
      discovery: {
        configuration: () => Promise.reject(new Error('discovery failed: ECONNREFUSED')),
      },
      now: () => T0,
    });
    expect(await down('t')).toEqual({
      ok: false,
      reason: 'introspection: identity provider unreachable: discovery failed: ECONNREFUSED',
    });
  });
});
