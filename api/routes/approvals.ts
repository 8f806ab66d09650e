// GET /v1/approvals: pending approval requests (open approval/* branches of the policy repository) and
// granted approvals (approvals/*.json on its base branch), as `pgward approvals list` shows them. The
// listing is read from git (injected), cached briefly and shared by concurrent callers.

import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from '../../lib/log.js';
import type { Approval } from '../../policy/contracts.js';
import type { ApprovalListing } from '../../policy/repo/approvals.js';
import type { ApiRoutes } from '../create-api.js';
import { problems } from '../problem.js';

export const APPROVALS_PATH = '/v1/approvals';

export interface ApprovalsRouteDeps {
  /** Reads the listing from the policy repository (listApprovals). */
  readonly list: () => Promise<ApprovalListing>;
  /** Lets only those who may see approvals through (the auditor guard, api/auth.ts requireGroup). */
  readonly guard?: MiddlewareHandler;
  readonly log: Logger;
  /** How long one listing is served before git is read again (default 5 s). */
  readonly cacheMs?: number;
  /** Epoch milliseconds (tests inject it). */
  readonly now?: () => number;
}

/** An approval as the API shows it: the file's fields, the SQL text included. */
function view(a: Approval) {
  return {
    id: a.id,
    identity: a.identity,
    database: a.database,
    sql: a.sql,
    sha256: a.sha256,
    fingerprint: a.fingerprint ?? null,
    requester: a.requester ?? null,
    requested_at: a.requested_at ?? null,
    not_before: a.not_before,
    expires_at: a.expires_at,
  };
}

export function toApprovalsBody(listing: ApprovalListing) {
  return {
    base: listing.base,
    pending: listing.pending.map((p) => ({
      id: p.id,
      branch: p.branch,
      commit: p.commit,
      approval: p.approval === null ? null : view(p.approval),
      problems: p.problems,
    })),
    granted: listing.granted.map((g) => ({ ...view(g.approval), state: g.state })),
    invalid: listing.invalid,
  };
}

export function approvalsRoutes(deps: ApprovalsRouteDeps): ApiRoutes {
  const cacheMs = deps.cacheMs ?? 5000;
  const now = deps.now ?? Date.now;
  let cached: { readonly at: number; readonly body: ReturnType<typeof toApprovalsBody> } | null =
    null;
  let inflight: Promise<ReturnType<typeof toApprovalsBody>> | null = null;

  const read = (): Promise<ReturnType<typeof toApprovalsBody>> => {
    if (cached !== null && now() - cached.at < cacheMs) return Promise.resolve(cached.body);
    inflight ??= deps
      .list()
      .then((listing) => {
        const body = toApprovalsBody(listing);
        cached = { at: now(), body };
        return body;
      })
      .finally(() => {
        inflight = null;
      });
    return inflight;
  };

  return (app) => {
    const handler = async function listApprovals(c: Context) {
      try {
        return c.json(await read());
      } catch (err) {
        deps.log.error('approvals listing failed', { err });
        throw problems.unavailable(
          'the policy repository could not be read; the gateway logged why',
        );
      }
    };
    if (deps.guard === undefined) app.get(APPROVALS_PATH, handler);
    else app.get(APPROVALS_PATH, deps.guard, handler);
  };
}
