// POST /v1/hooks/policy: makes the gateway pull its policy bundle now instead of at the next poll.
// Authenticated like a GitHub webhook: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256 of the raw
// body under the shared policy.git.webhook_secret, so a repository webhook can call it directly.
// @see https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { assertNever } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { PullOutcome } from '../../policy/repo/git-bundle-source.js';
import type { ApiRoutes } from '../create-api.js';
import { ProblemError, problems } from '../problem.js';

export const POLICY_HOOK_PATH = '/v1/hooks/policy';
export const SIGNATURE_HEADER = 'x-hub-signature-256';

export interface PolicyHookDeps {
  /** The shared secret; null refuses every request (no secret configured). */
  readonly secret: Buffer | null;
  /** Pulls the bundle branch now (GitBundleSource.pullNow). */
  readonly pull: () => Promise<PullOutcome>;
  readonly log: Logger;
  /** Largest accepted body (GitHub push payloads are small; default 1 MiB). */
  readonly maxBodyBytes?: number;
}

/** The header value a sender computes for `body` (tests and scripts use it). */
export function signPolicyHook(secret: Buffer | string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** SECURITY: constant-time comparison of the HMAC; a malformed header is simply not valid. */
export function verifyPolicyHook(
  secret: Buffer,
  body: Uint8Array,
  header: string | undefined,
): boolean {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  if (m === null) return false;
  const given = Buffer.from(m[1]!, 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function policyHookRoutes(deps: PolicyHookDeps): ApiRoutes {
  const maxSize = deps.maxBodyBytes ?? 1024 * 1024;
  return (app: Hono) => {
    app.post(
      POLICY_HOOK_PATH,
      bodyLimit({
        maxSize,
        onError: () => {
          throw new ProblemError({
            title: 'Content Too Large',
            status: 413,
            detail: `the body is larger than ${maxSize} bytes`,
          });
        },
      }),
      async function policyHook(c) {
        if (deps.secret === null)
          throw problems.unavailable('no webhook secret is configured (policy.git.webhook_secret)');
        const body = new Uint8Array(await c.req.arrayBuffer());
        if (!verifyPolicyHook(deps.secret, body, c.req.header(SIGNATURE_HEADER))) {
          deps.log.warn('policy hook refused: bad signature', { path: POLICY_HOOK_PATH });
          throw problems.unauthorized(`${SIGNATURE_HEADER} is missing or does not match the body`);
        }
        // GitHub's ping when a webhook is created: authenticated, nothing to pull.
        if (c.req.header('x-github-event') === 'ping') return c.json({ outcome: 'pong' });
        const result = await deps.pull();
        switch (result.outcome) {
          case 'swapped':
          case 'unchanged':
            return c.json(result);
          case 'rejected':
            throw new ProblemError({
              title: 'Bundle Rejected',
              status: 422,
              detail: `bundle ${result.commit} was rejected (${result.code}): ${result.message}`,
              code: result.code,
              commit: result.commit,
              revision: result.revision,
            });
          case 'unavailable':
            throw new ProblemError({
              title: 'Service Unavailable',
              status: 503,
              detail: result.message,
              revision: result.revision,
            });
          default:
            return assertNever(result, 'pull outcome');
        }
      },
    );
  };
}
