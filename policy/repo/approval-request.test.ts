// Approval requests: the deterministic id, the schema-valid file, and filing against a real bare
// remote — the pushed branch, idempotence, a refreshed window, an approval already granted, the PR.
import { cp } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitWorkspace, type GitWorkspace } from '../../test/harness/git.js';
import { policyValidators } from '../schemas.js';
import { TEMPLATE_DIR } from '../testing/template-bundle.js';
import {
  type ApprovalRequestInput,
  approvalRequestId,
  buildApprovalRequest,
  fileApprovalRequest,
  sha256Hex,
} from './approval-request.js';
import type { GitHost, PullRequestSpec } from './git-host.js';

const NOW = new Date('2026-11-25T10:00:00.250Z');
const SQL = 'DELETE FROM orders WHERE id = 3';

const input = (over: Partial<ApprovalRequestInput> = {}): ApprovalRequestInput => ({
  sub: 'svc-ops',
  database: 'app',
  sql: SQL,
  sha256: sha256Hex(SQL),
  fingerprint: 'abc123',
  reasons: [
    { rule: 'approval.ops_delete', message: 'DELETE on public.orders needs human approval' },
  ],
  sessionId: 's_test',
  requestedAt: NOW,
  windowMs: 3_600_000,
  ...over,
});

async function seeded(): Promise<GitWorkspace> {
  const ws = await createGitWorkspace();
  const seed = await ws.clone('maintainer');
  await cp(TEMPLATE_DIR, seed.dir, { recursive: true });
  await seed.commitAll('policy');
  await seed.git.raw(['push', '-q', 'origin', 'HEAD:refs/heads/main']);
  return ws;
}

describe('approvalRequestId', () => {
  it('is apr- and 16 hex, the same for the same identity, database and text only', () => {
    const id = approvalRequestId('svc-ops', 'app', sha256Hex(SQL));
    expect(id).toMatch(/^apr-[0-9a-f]{16}$/);
    expect(approvalRequestId('svc-ops', 'app', sha256Hex(SQL))).toBe(id);
    expect(approvalRequestId('svc-ops2', 'app', sha256Hex(SQL))).not.toBe(id);
    expect(approvalRequestId('svc-ops', 'app2', sha256Hex(SQL))).not.toBe(id);
    expect(approvalRequestId('svc-ops', 'app', sha256Hex(`${SQL} `))).not.toBe(id);
    // The parts are separated: moving a character from one to the next changes the id.
    expect(approvalRequestId('ab', 'c', 'x')).not.toBe(approvalRequestId('a', 'bc', 'x'));
  });
});

describe('buildApprovalRequest', () => {
  it('builds a schema-valid file: exact text, digest, window from now to the second, requester', () => {
    const file = buildApprovalRequest(input());
    expect(policyValidators().approval(file)).toBe(true);
    expect(file).toMatchObject({
      id: approvalRequestId('svc-ops', 'app', sha256Hex(SQL)),
      identity: { sub: 'svc-ops' },
      database: 'app',
      sql: SQL,
      sha256: sha256Hex(SQL),
      fingerprint: 'abc123',
      requested_at: NOW.toISOString(),
      requester: 'svc-ops',
      not_before: '2026-11-25T10:00:00Z',
      expires_at: '2026-11-25T11:00:00Z',
    });
    expect(file.reason).toContain('session s_test');
    expect(file.reason).toContain('approval.ops_delete');
  });

  it('refuses a text that does not match its sha256', () => {
    expect(() => buildApprovalRequest(input({ sql: `${SQL} OR true` }))).toThrow(/sha256/);
  });
});

describe('fileApprovalRequest', () => {
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

  it('pushes approval/<id> with the file on top of main, once, and opens one PR', async () => {
    await using ws = await seeded();
    const opened: PullRequestSpec[] = [];
    const gitHost: GitHost = {
      openPullRequest: async (spec) => {
        opened.push(spec);
        return { outcome: 'opened', number: 9, url: 'https://git.example/pr/9' };
      },
    };
    const approval = buildApprovalRequest(input());
    const first = await fileApprovalRequest({ repo: ws.remote, approval, gitHost, now: NOW });
    expect(first).toMatchObject({
      outcome: 'filed',
      id: approval.id,
      branch: `approval/${approval.id}`,
      base: 'main',
      pullRequest: { outcome: 'opened', url: 'https://git.example/pr/9' },
    });
    const head = await ws.remoteHead(`approval/${approval.id}`);
    expect(head).toBe(first.outcome === 'filed' ? first.commit : null);
    const reader = await ws.clone('reader');
    const stored = JSON.parse(
      await reader.git.raw([
        'show',
        `origin/approval/${approval.id}:approvals/${approval.id}.json`,
      ]),
    );
    expect(stored).toEqual(approval);
    const changed = await reader.git.raw([
      'diff',
      '--name-only',
      'origin/main',
      `origin/approval/${approval.id}`,
    ]);
    expect(changed.trim()).toBe(`approvals/${approval.id}.json`);
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ head: `approval/${approval.id}`, base: 'main' });
    expect(opened[0]!.body).toContain(SQL);

    // Again (another gateway, a restart): the branch exists with a live window, nothing is pushed.
    const again = await fileApprovalRequest({ repo: ws.remote, approval, gitHost, now: NOW });
    expect(again).toEqual({
      outcome: 'pending',
      id: approval.id,
      branch: `approval/${approval.id}`,
    });
    expect(await ws.remoteHead(`approval/${approval.id}`)).toBe(head);
    expect(opened).toHaveLength(1);

    // Unreviewed past its window: the same branch gets a fresh window, fast-forward.
    const later = new Date(Date.parse(approval.expires_at) + 5000);
    const fresh = buildApprovalRequest(input({ requestedAt: later }));
    const refreshed = await fileApprovalRequest({ repo: ws.remote, approval: fresh, now: later });
    expect(refreshed.outcome).toBe('filed');
    await reader.git.raw(['fetch', '-q', 'origin']);
    const parent = await reader.git.raw(['rev-parse', `origin/approval/${approval.id}^`]);
    expect(parent.trim()).toBe(head);
  });

  it('leaves an approval already merged into main alone (granted)', async () => {
    await using ws = await seeded();
    const approval = buildApprovalRequest(input());
    await fileApprovalRequest({ repo: ws.remote, approval, now: NOW });
    const reviewer = await ws.clone('reviewer');
    await reviewer.git.raw([
      'merge',
      '-q',
      '--no-ff',
      '-m',
      'ok',
      `origin/approval/${approval.id}`,
    ]);
    await reviewer.git.raw(['push', '-q', 'origin', 'main', `:approval/${approval.id}`]);
    expect(await fileApprovalRequest({ repo: ws.remote, approval, now: NOW })).toEqual({
      outcome: 'granted',
      id: approval.id,
      base: 'main',
    });
    expect(await ws.remoteHead(`approval/${approval.id}`)).toBeNull();
  });

  it('validates like CI before pushing: a window above the maximum lifetime is refused', async () => {
    await using ws = await seeded();
    const approval = buildApprovalRequest(input({ windowMs: 48 * 3_600_000 }));
    await expect(
      fileApprovalRequest({ repo: ws.remote, approval, now: NOW }),
    ).rejects.toMatchObject({
      code: 'PGW_REPO_REQUEST_INVALID',
      message: expect.stringMatching(/maximum of 24/),
    });
    expect(await ws.remoteHead(`approval/${approval.id}`)).toBeNull();
  });

  it('fails with PGW_REPO_GIT_FAILED when the remote cannot be reached', async () => {
    await using ws = await seeded();
    const approval = buildApprovalRequest(input());
    await expect(
      fileApprovalRequest({ repo: `${ws.root}/nowhere.git`, approval, now: NOW }),
    ).rejects.toMatchObject({ code: 'PGW_REPO_GIT_FAILED' });
  });
});
