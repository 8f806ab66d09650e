// The API factory: routes plug in, errors become application/problem+json.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/log.js';
import { createApi } from './create-api.js';
import { problems } from './problem.js';

describe('createApi', () => {
  const app = createApi({
    log: silentLogger,
    routes: [
      (a) => a.get('/ok', (c) => c.json({ ok: true })),
      (a) =>
        a.get('/denied', () => {
          throw problems.forbidden('not an auditor');
        }),
      (a) =>
        a.get('/boom', () => {
          throw new Error('secret internals');
        }),
    ],
  });

  it('serves routes from modules', async () => {
    const res = await app.request('/ok');
    expect(await res.json()).toEqual({ ok: true });
  });

  it('answers thrown problems as application/problem+json', async () => {
    const res = await app.request('/denied');
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({
      title: 'Forbidden',
      status: 403,
      detail: 'not an auditor',
    });
  });

  it('hides internal errors and answers unknown paths with 404 problems', async () => {
    const boom = await app.request('/boom');
    expect(boom.status).toBe(500);
    expect(await boom.text()).not.toContain('secret internals');
    expect((await app.request('/nope')).status).toBe(404);
  });
});
