// Approvals in the policy repository: the CI check of one file (schema, digest, four eyes), and list
// and approve against a real bare remote.
import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createGitWorkspace, type GitWorkspace } from '../../test/harness/git.js';
import { REPO_ROOT, TEMPLATE_DIR } from '../testing/template-bundle.js';
import {
  type ApprovalRequestInput,
  buildApprovalRequest,
  fileApprovalRequest,
  sha256Hex,
} from './approval-request.js';
import { approveRequest, checkApproval, listApprovals, samePerson } from './approvals.js';
import { WORKFLOWS } from './workflows.js';

const NOW = new Date('2026-11-25T10:00:00Z');

const request = (sql: string, over: Partial<ApprovalRequestInput> = {}) =>
  buildApprovalRequest({
    sub: 'svc-ops',
    database: 'app',
    sql,
    sha256: sha256Hex(sql),
    fingerprint: '',
    reasons: [{ rule: 'approval.ops_delete', message: 'needs approval' }],
    sessionId: 's_1',
    requestedAt: NOW,
    windowMs: 3_600_000,
    ...over,
  });

describe('checkApproval', () => {
  const approval = request('DELETE FROM orders WHERE id = 3');
  const file = `approvals/${approval.id}.json`;

  it('passes a valid file approved by someone else', () => {
    expect(
      checkApproval(approval, { approver: 'bob', requesterFromFile: true, file }),
    ).toMatchObject({ ok: true, problems: [] });
  });

  it.each(['svc-ops', 'SVC-OPS', '@svc-ops', 'svc-ops@example.com'])(
    'refuses the requester approving it (%s)',
    (approver) => {
      const check = checkApproval(approval, { approver, requesterFromFile: true, file });
      expect(check.ok).toBe(false);
      expect(check.problems[0]?.message).toMatch(/who is its requester/);
    },
  );

  it('compares with an explicit --requester too, and needs one of the two', () => {
    expect(checkApproval(approval, { approver: 'alice', requester: 'alice@x.test', file }).ok).toBe(
      false,
    );
    expect(checkApproval(approval, { approver: 'alice', file }).problems[0]?.message).toMatch(
      /no requester/,
    );
  });

  it('refuses a text changed after the digest, a schema failure and a wrong file name', () => {
    const tampered = { ...approval, sql: 'DELETE FROM orders' };
    expect(
      checkApproval(tampered, { approver: 'bob', requesterFromFile: true, file }).problems,
    ).toEqual([expect.objectContaining({ pointer: '/sha256' })]);
    const extra = { ...approval, allow_everything: true };
    expect(checkApproval(extra, { approver: 'bob', requesterFromFile: true, file }).ok).toBe(false);
    const { sha256: _dropped, ...missing } = approval;
    expect(checkApproval(missing, { approver: 'bob', requesterFromFile: true, file }).ok).toBe(
      false,
    );
    expect(
      checkApproval(approval, {
        approver: 'bob',
        requesterFromFile: true,
        file: 'approvals/x.json',
      }).problems,
    ).toEqual([expect.objectContaining({ pointer: '/id' })]);
  });

  it('samePerson errs towards "same"', () => {
    expect(samePerson('Alice', 'alice@corp.test')).toBe(true);
    expect(samePerson('alice@a.test', 'alice@b.test')).toBe(true);
    expect(samePerson('alice', 'alicia')).toBe(false);
    expect(samePerson('', '')).toBe(false);
  });
});

describe('listApprovals and approveRequest', () => {
  const home = process.env.HOME;
  let ws0: GitWorkspace;
  beforeAll(async () => {
    ws0 = await createGitWorkspace();
    process.env.HOME = ws0.home;
  });
  afterAll(async () => {
    process.env.HOME = home;
    await ws0[Symbol.asyncDispose]();
  });

  it('lists a filed request as pending; the requester cannot approve it; a reviewer merges it', async () => {
    await using ws = await createGitWorkspace();
    const seed = await ws.clone('maintainer');
    await cp(TEMPLATE_DIR, seed.dir, { recursive: true });
    await seed.commitAll('policy');
    await seed.git.raw(['push', '-q', 'origin', 'HEAD:refs/heads/main']);

    const approval = request('DELETE FROM orders WHERE id = 3');
    await fileApprovalRequest({ repo: ws.remote, approval, now: NOW });
    const before = await listApprovals({ repo: ws.remote, now: NOW });
    expect(before.base).toBe('main');
    expect(before.granted).toEqual([]);
    expect(before.pending).toEqual([
      expect.objectContaining({ id: approval.id, branch: `approval/${approval.id}`, problems: [] }),
    ]);
    expect(before.pending[0]?.approval?.sql).toBe('DELETE FROM orders WHERE id = 3');

    await expect(
      approveRequest({ repo: ws.remote, id: approval.id, reviewer: 'svc-ops', now: NOW }),
    ).rejects.toThrow(/who is its requester/);
    await expect(
      approveRequest({ repo: ws.remote, id: 'apr-0000000000000000', reviewer: 'bob', now: NOW }),
    ).rejects.toThrow(/no pending approval request/);
    const late = new Date(Date.parse(approval.expires_at));
    await expect(
      approveRequest({ repo: ws.remote, id: approval.id, reviewer: 'bob', now: late }),
    ).rejects.toThrow(/window that ended/);

    const approved = await approveRequest({
      repo: ws.remote,
      id: approval.id,
      reviewer: 'bob',
      now: NOW,
    });
    expect(approved).toMatchObject({
      id: approval.id,
      base: 'main',
      approval: { sql: approval.sql },
    });
    expect(await ws.remoteHead('main')).toBe(approved.commit);
    expect(await ws.remoteHead(`approval/${approval.id}`)).toBeNull();
    const reader = await ws.clone('reader');
    expect(await reader.git.raw(['log', '-1', '--format=%an%n%s'])).toMatch(
      new RegExp(`^bob\napprove ${approval.id}`),
    );

    const after = await listApprovals({ repo: ws.remote, now: NOW });
    expect(after.pending).toEqual([]);
    expect(after.granted).toEqual([{ id: approval.id, approval, state: 'active' }]);
    const expired = await listApprovals({ repo: ws.remote, now: late });
    expect(expired.granted[0]?.state).toBe('expired');
  });

  it('refuses to approve a branch that changes anything besides its approval file', async () => {
    await using ws = await createGitWorkspace();
    const seed = await ws.clone('maintainer');
    await cp(TEMPLATE_DIR, seed.dir, { recursive: true });
    await seed.commitAll('policy');
    await seed.git.raw(['push', '-q', 'origin', 'HEAD:refs/heads/main']);
    const approval = request('DELETE FROM orders WHERE id = 4');
    await fileApprovalRequest({ repo: ws.remote, approval, now: NOW });
    const sneaky = await ws.clone('sneaky');
    await sneaky.git.raw(['checkout', '-q', `approval/${approval.id}`]);
    await sneaky.git.raw(['rm', '-q', 'data/approval_triggers.json']);
    await sneaky.commitAll('drop the triggers');
    await sneaky.git.raw(['push', '-q', 'origin', `approval/${approval.id}`]);
    await expect(
      approveRequest({ repo: ws.remote, id: approval.id, reviewer: 'bob', now: NOW }),
    ).rejects.toThrow(/changes data\/approval_triggers.json besides/);
    const listing = await listApprovals({ repo: ws.remote, now: NOW });
    expect(listing.pending.map((p) => p.id)).toEqual([approval.id]);
    expect(listing.granted).toEqual([]);
  });
});

describe('the scaffolded pull-request workflow', () => {
  it('runs check-approval with the approving reviewer from the review event', async () => {
    const file = path.join(REPO_ROOT, 'policy', 'repo-template', WORKFLOWS.pullRequest);
    const doc = parse(await readFile(file, 'utf8')) as {
      on: Record<string, unknown>;
      jobs: Record<string, { steps: { uses?: string; with?: { script?: string } }[] }>;
    };
    expect(doc.on.pull_request_review).toEqual({ types: ['submitted'] });
    const script = Object.values(doc.jobs)
      .flatMap((j) => j.steps)
      .find((s) => s.uses?.startsWith('actions/github-script@'))?.with?.script;
    expect(script).toContain("'check-approval', '--file', file");
    expect(script).toContain("'--approver', review.user.login, '--requester-from-file'");
    expect(script).toContain("review?.state !== 'approved'");
  });
});
