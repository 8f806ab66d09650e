// requireGroup in isolation: every way a request is refused (no header, another scheme, an oversized
// token, an invalid token, a missing group, a verifier fault) and the one way it passes.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../lib/log.js';
import { requireGroup, type VerifyBearer } from './auth.js';

const lines: Record<string, unknown>[] = [];
const log = createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l)) });
const verify: VerifyBearer = async (token) => {
  if (token === 'boom') throw new Error('IdP unreachable');
  if (token === 'good') return { ok: true, identity: { sub: 'alice', groups: ['x', 'auditors'] } };
  if (token === 'outsider') return { ok: true, identity: { sub: 'bob', groups: ['x'] } };
  return { ok: false, reason: 'jwt: token expired at 2026-01-01T00:00:00Z' };
};
const app = new Hono();
app.get('/p', requireGroup({ verifyBearer: verify, group: 'auditors', log }), (c) => c.text('in'));
const call = (authorization?: string) =>
  app.request('/p', authorization === undefined ? {} : { headers: { authorization } });

describe('requireGroup', () => {
  it('lets a member of the group through and logs who it was', async () => {
    const res = await call('Bearer good');
    expect([res.status, await res.text()]).toEqual([200, 'in']);
    expect(lines.at(-1)).toMatchObject({ msg: 'api request authorised', sub: 'alice' });
  });

  it.each([
    [undefined, 'Bearer realm="pgward"'],
    ['Basic YWxpY2U6eA==', 'Bearer realm="pgward"'],
    ['Bearer ', 'Bearer realm="pgward"'],
    [`Bearer ${'a'.repeat(20_000)}`, 'Bearer realm="pgward"'],
    ['Bearer expired', 'Bearer realm="pgward", error="invalid_token"'],
  ])('answers %s with 401 and a challenge', async (header, challenge) => {
    const res = await call(header);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401 });
    // SECURITY: the reason stays in the log.
    expect(JSON.stringify(body)).not.toContain('expired');
  });

  it('answers a valid token without the group with 403 insufficient_scope', async () => {
    const res = await call('Bearer outsider');
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(await res.json()).toMatchObject({
      status: 403,
      detail: expect.stringContaining('auditors'),
    });
  });

  it('answers a verifier fault with 503, never with access', async () => {
    const res = await call('Bearer boom');
    expect(res.status).toBe(503);
    expect(lines.at(-1)).toMatchObject({ level: 'error', msg: 'bearer verification failed' });
  });
});
