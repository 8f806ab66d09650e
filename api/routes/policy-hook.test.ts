// POST /v1/hooks/policy in-process: HMAC authentication (GitHub's X-Hub-Signature-256), the pull
// outcome as the answer, ping, body limit, and no pull without a valid signature.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/log.js';
import type { PullOutcome } from '../../policy/repo/git-bundle-source.js';
import { createApi } from '../create-api.js';
import {
  POLICY_HOOK_PATH,
  policyHookRoutes,
  signPolicyHook,
  verifyPolicyHook,
} from './policy-hook.js';

const SECRET = Buffer.from('webhook-secret-for-tests');
const BODY = JSON.stringify({ ref: 'refs/heads/pgward-bundle', after: 'a'.repeat(40) });

function api(outcome: PullOutcome, secret: Buffer | null = SECRET) {
  const state = { pulls: 0 };
  const app = createApi({
    log: silentLogger,
    routes: [
      policyHookRoutes({
        secret,
        log: silentLogger,
        maxBodyBytes: 4096,
        pull: async () => {
          state.pulls++;
          return outcome;
        },
      }),
    ],
  });
  return { app, state };
}

const post = (
  app: ReturnType<typeof api>['app'],
  body: string,
  headers: Record<string, string> = {},
) => app.request(POLICY_HOOK_PATH, { method: 'POST', body, headers });

describe('policy hook', () => {
  it('pulls and answers the outcome when the body is signed with the shared secret', async () => {
    const swapped: PullOutcome = {
      outcome: 'swapped',
      commit: 'c'.repeat(40),
      revision: 'r'.repeat(40),
    };
    const { app, state } = api(swapped);
    const res = await post(app, BODY, { 'x-hub-signature-256': signPolicyHook(SECRET, BODY) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(swapped);
    expect(state.pulls).toBe(1);
  });

  it.each([
    ['no header', {}],
    ['a signature of another body', { 'x-hub-signature-256': signPolicyHook(SECRET, `${BODY} `) }],
    ['another secret', { 'x-hub-signature-256': signPolicyHook('other', BODY) }],
    ['a malformed header', { 'x-hub-signature-256': 'sha256=zz' }],
    ['sha1', { 'x-hub-signature-256': `sha1=${'0'.repeat(40)}` }],
  ])('refuses %s with 401 and does not pull', async (_what, headers) => {
    const { app, state } = api({ outcome: 'unchanged', commit: 'c', revision: null });
    const res = await post(app, BODY, headers);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(state.pulls).toBe(0);
  });

  it('refuses everything when no secret is configured', async () => {
    const { app, state } = api({ outcome: 'unchanged', commit: 'c', revision: null }, null);
    const res = await post(app, BODY, { 'x-hub-signature-256': signPolicyHook(SECRET, BODY) });
    expect(res.status).toBe(503);
    expect(state.pulls).toBe(0);
  });

  it('answers a rejected bundle with 422 naming the code, and a failed fetch with 503', async () => {
    const rejected = api({
      outcome: 'rejected',
      commit: 'c'.repeat(40),
      code: 'PGW_BUNDLE_HASH_MISMATCH',
      message: 'policy.wasm has sha256 …',
      revision: 'r'.repeat(40),
    });
    const res = await post(rejected.app, BODY, {
      'x-hub-signature-256': signPolicyHook(SECRET, BODY),
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      code: 'PGW_BUNDLE_HASH_MISMATCH',
      revision: 'r'.repeat(40),
    });
    const down = api({ outcome: 'unavailable', message: 'cannot fetch', revision: null });
    const res2 = await post(down.app, BODY, {
      'x-hub-signature-256': signPolicyHook(SECRET, BODY),
    });
    expect(res2.status).toBe(503);
  });

  it("answers GitHub's ping without pulling, and refuses a body above the limit", async () => {
    const { app, state } = api({ outcome: 'unchanged', commit: 'c', revision: null });
    const ping = await post(app, BODY, {
      'x-hub-signature-256': signPolicyHook(SECRET, BODY),
      'x-github-event': 'ping',
    });
    expect(await ping.json()).toEqual({ outcome: 'pong' });
    const big = 'x'.repeat(4097);
    const res = await post(app, big, { 'x-hub-signature-256': signPolicyHook(SECRET, big) });
    expect(res.status).toBe(413);
    expect(state.pulls).toBe(0);
  });

  it('verifies in constant time only well-formed sha256 signatures', () => {
    const body = Buffer.from(BODY);
    expect(verifyPolicyHook(SECRET, body, signPolicyHook(SECRET, body))).toBe(true);
    expect(
      verifyPolicyHook(
        SECRET,
        body,
        signPolicyHook(SECRET, body).toUpperCase().replace('SHA256', 'sha256'),
      ),
    ).toBe(true);
    expect(verifyPolicyHook(SECRET, body, undefined)).toBe(false);
    expect(verifyPolicyHook(SECRET, body, `${signPolicyHook(SECRET, body)}00`)).toBe(false);
  });
});
