// GET /v1/approvals in-process: the listing's shape, the short cache shared by callers, the auditor
// guard, and a 503 problem (never a stack) when the repository cannot be read.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/log.js';
import type { Approval } from '../../policy/contracts.js';
import type { ApprovalListing } from '../../policy/repo/approvals.js';
import { requireGroup } from '../auth.js';
import { createApi } from '../create-api.js';
import { APPROVALS_PATH, approvalsRoutes } from './approvals.js';

const approval: Approval = {
  id: 'apr-0123456789abcdef',
  identity: { sub: 'svc-ops' },
  database: 'app',
  sql: 'DELETE FROM orders WHERE id = 3',
  sha256: 'a'.repeat(64),
  requester: 'svc-ops',
  not_before: '2026-11-25T10:00:00Z',
  expires_at: '2026-11-25T11:00:00Z',
};

const listing: ApprovalListing = {
  base: 'main',
  pending: [
    {
      id: 'apr-1111111111111111',
      branch: 'approval/apr-1111111111111111',
      commit: 'c1',
      approval: { ...approval, id: 'apr-1111111111111111' },
      problems: [],
    },
  ],
  granted: [{ id: approval.id, approval, state: 'active' }],
  invalid: [],
};

describe('GET /v1/approvals', () => {
  it('shows pending requests and granted approvals, read once per cache period', async () => {
    let reads = 0;
    let clock = 0;
    const app = createApi({
      log: silentLogger,
      routes: [
        approvalsRoutes({
          list: async () => {
            reads++;
            return listing;
          },
          log: silentLogger,
          now: () => clock,
        }),
      ],
    });
    const res = await app.request(APPROVALS_PATH);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      base: 'main',
      pending: [
        {
          id: 'apr-1111111111111111',
          branch: 'approval/apr-1111111111111111',
          commit: 'c1',
          approval: expect.objectContaining({ sql: approval.sql, identity: { sub: 'svc-ops' } }),
          problems: [],
        },
      ],
      granted: [expect.objectContaining({ id: approval.id, state: 'active', sql: approval.sql })],
      invalid: [],
    });
    await Promise.all([app.request(APPROVALS_PATH), app.request(APPROVALS_PATH)]);
    expect(reads).toBe(1);
    clock = 5000;
    await app.request(APPROVALS_PATH);
    expect(reads).toBe(2);
  });

  it("lets only the guard's group through, and answers 503 when git fails", async () => {
    const guarded = createApi({
      log: silentLogger,
      routes: [
        approvalsRoutes({
          list: async () => listing,
          log: silentLogger,
          guard: requireGroup({
            verifyBearer: async (token) =>
              token === 'auditor-token'
                ? { ok: true, identity: { sub: 'eve', groups: ['auditors'] } }
                : { ok: true, identity: { sub: 'mallory', groups: ['dev'] } },
            group: 'auditors',
            log: silentLogger,
          }),
        }),
      ],
    });
    expect((await guarded.request(APPROVALS_PATH)).status).toBe(401);
    const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    expect((await guarded.request(APPROVALS_PATH, as('dev-token'))).status).toBe(403);
    expect((await guarded.request(APPROVALS_PATH, as('auditor-token'))).status).toBe(200);
    const broken = createApi({
      log: silentLogger,
      routes: [
        approvalsRoutes({
          list: async () => Promise.reject(new Error('fatal: /secret/path')),
          log: silentLogger,
        }),
      ],
    });
    const res = await broken.request(APPROVALS_PATH);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.text()).not.toContain('/secret/path');
  });
});
