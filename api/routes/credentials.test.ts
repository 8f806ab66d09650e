// POST /v1/credentials in-process: bearer token in, credential and connection string out; every
// refusal is problem+json, and a bad token's reason stays in the server log.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.js';
import { createApi } from '../create-api.js';
import { type CallerIdentity, connectionString, credentialsRoutes } from './credentials.js';

const alice: CallerIdentity = {
  sub: 'alice@example.com',
  groups: ['support'],
  issuer: 'https://idp.example.com',
  via: 'jwt',
  expiresAt: null,
};

function setup(mintOk = true) {
  const lines: string[] = [];
  const minted: { identity: CallerIdentity; database: string }[] = [];
  const app = createApi({
    log: createLogger({ write: (l) => lines.push(l) }),
    routes: [
      credentialsRoutes({
        verifyBearer: async (token) =>
          token === 'good-token'
            ? { ok: true, identity: alice }
            : { ok: false, reason: 'jwt: token expired at 2026-01-01T00:00:00.000Z' },
        mint: async (identity, database) => {
          minted.push({ identity, database });
          return mintOk
            ? { ok: true, credential: 'h.p.s', expiresAt: Date.parse('2026-11-25T14:00:00Z') }
            : { ok: false, reason: 'the caller has no grant that is still active' };
        },
        publicHost: 'pgward.example.com',
        publicPort: 6432,
        databases: ['app', 'warehouse'],
        log: createLogger({ write: (l) => lines.push(l) }),
      }),
    ],
  });
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    app.request('/v1/credentials', {
      method: 'POST',
      headers: {
        authorization: 'Bearer good-token',
        'content-type': 'application/json',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { post, lines, minted };
}

describe('POST /v1/credentials', () => {
  it('returns the credential, its expiry and a connection string', async () => {
    const { post, minted } = setup();
    const res = await post({ database: 'app' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({
      credential: 'h.p.s',
      expires_at: '2026-11-25T14:00:00.000Z',
      connection_string:
        'postgresql://alice%40example.com:h.p.s@pgward.example.com:6432/app?sslmode=require',
    });
    expect(minted).toEqual([{ identity: alice, database: 'app' }]);
  });

  it.each([
    ['no authorization header', { authorization: '' }],
    ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ])('answers 401 for %s', async (_name, headers) => {
    const { post } = setup();
    const res = await post({ database: 'app' }, headers);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers 401 invalid_token for a bad token and logs the reason, not the token', async () => {
    const { post, lines, minted } = setup();
    const res = await post({ database: 'app' }, { authorization: 'Bearer expired-token' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await res.json()).toMatchObject({ detail: 'the access token is not valid' });
    const log = lines.join('');
    expect(log).toContain('jwt: token expired at 2026-01-01T00:00:00.000Z');
    expect(log).not.toContain('expired-token');
    expect(minted).toEqual([]);
  });

  it.each<[string, unknown, Record<string, string>, number, RegExp]>([
    ['a body that is not JSON', '{', {}, 400, /not valid JSON/],
    ['a text body', 'database=app', { 'content-type': 'text/plain' }, 400, /application\/json/],
    ['an array', ['app'], {}, 400, /JSON object/],
    ['no database', {}, {}, 400, /"database"/],
    ['a numeric database', { database: 5 }, {}, 400, /"database"/],
    ['extra properties', { database: 'app', sub: 'root' }, {}, 400, /unknown properties: sub/],
    ['an oversized body', { database: 'x'.repeat(5000) }, {}, 400, /larger than 4096/],
    ['an unknown database', { database: 'secrets' }, {}, 404, /no database named "secrets"/],
  ])('refuses %s', async (_name, body, headers, status, detail) => {
    const { post } = setup();
    const res = await post(body, headers);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as { detail: string }).detail).toMatch(detail);
  });

  it('answers 403 with the reason when no credential can be minted', async () => {
    const { post } = setup(false);
    const res = await post({ database: 'app' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      detail: 'the caller has no grant that is still active',
    });
  });
});

describe('connectionString', () => {
  it('encodes the user and brackets an IPv6 host', () => {
    expect(connectionString('::1', 5433, 'a b/c', 'x.y.z', 'my db')).toBe(
      'postgresql://a%20b%2Fc:x.y.z@[::1]:5433/my%20db?sslmode=require',
    );
  });
});
