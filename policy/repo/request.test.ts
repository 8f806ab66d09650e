// pgward request against a real bare remote: the pushed branch, the grant file, id uniqueness,
// validation before pushing, the pull request through the GitHost interface.
import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitWorkspace, type GitWorkspace } from '../../test/harness/git.js';
import { policyValidators } from '../schemas.js';
import { TEMPLATE_DIR } from '../testing/template-bundle.js';
import type { GitHost, PullRequestSpec } from './git-host.js';
import { requestGrant } from './request.js';

const NOW = new Date('2026-11-25T10:00:00Z');

async function seeded(): Promise<GitWorkspace> {
  const ws = await createGitWorkspace();
  const seed = await ws.clone('maintainer');
  await cp(TEMPLATE_DIR, seed.dir, { recursive: true });
  await seed.commitAll('policy');
  await seed.git.raw(['push', '-q', 'origin', 'HEAD:refs/heads/main']);
  return ws;
}

const base = {
  subject: 'svc-agent',
  database: 'app',
  tables: ['public.orders:select'],
  ttl: '2h',
  reason: 'Investigate INC-1',
  requester: 'alice@example.com',
  now: NOW,
};

describe('requestGrant', () => {
  // The machine's ~/.gitconfig must not decide who commits: with no identity, the requester does.
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

  it('pushes grant/<id> with one schema-valid grant file on top of main, and opens the PR', async () => {
    await using ws = await seeded();
    const opened: PullRequestSpec[] = [];
    const gitHost: GitHost = {
      openPullRequest: async (spec) => {
        opened.push(spec);
        return { outcome: 'opened', number: 7, url: 'https://git.example/pr/7' };
      },
    };
    const result = await requestGrant({ ...base, repo: ws.remote, gitHost });
    expect(result).toMatchObject({
      id: '2026-11-25-svc-agent-orders',
      branch: 'grant/2026-11-25-svc-agent-orders',
      base: 'main',
      pullRequest: { outcome: 'opened', number: 7 },
    });
    expect(await ws.remoteHead(result.branch)).toBe(result.commit);
    expect(opened).toEqual([
      expect.objectContaining({
        head: result.branch,
        base: 'main',
        title: expect.stringMatching(/svc-agent select on public.orders/),
      }),
    ]);

    const reviewer = await ws.clone('reviewer');
    await reviewer.git.raw(['fetch', '-q', 'origin']);
    const changed = await reviewer.git.raw([
      'diff',
      '--name-status',
      'origin/main',
      `origin/${result.branch}`,
    ]);
    expect(changed.trim()).toBe(`A\t${result.file}`);
    const author = await reviewer.git.raw([
      'log',
      '-1',
      '--format=%an <%ae>',
      `origin/${result.branch}`,
    ]);
    expect(author.trim()).toBe('alice@example.com <alice@example.com>');
    await reviewer.git.raw(['checkout', '-q', result.branch]);
    const file = JSON.parse(await readFile(path.join(reviewer.dir, result.file), 'utf8'));
    expect(policyValidators().grant(file)).toBe(true);
    expect(file).toMatchObject({
      not_before: '2026-11-25T10:00:00Z',
      expires_at: '2026-11-25T12:00:00Z',
    });
  });

  it('gives a second identical request a fresh id, and resolves a working clone to its origin', async () => {
    await using ws = await seeded();
    const first = await requestGrant({ ...base, repo: ws.remote });
    const requester = await ws.clone('requester');
    const second = await requestGrant({ ...base, repo: requester.dir });
    expect(second.id).toBe(`${first.id}-2`);
    expect(await ws.remoteHead(second.branch)).toBe(second.commit);
    expect(second.pullRequest).toBeNull();
  });

  it('refuses, before pushing anything, a grant above the maximum lifetime', async () => {
    await using ws = await seeded();
    const err = await requestGrant({ ...base, repo: ws.remote, ttl: '31d' }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      code: 'PGW_REPO_REQUEST_INVALID',
      message: expect.stringMatching(/above the maximum of 720/),
    });
    expect(await ws.remoteHead('grant/2026-11-25-svc-agent-orders')).toBeNull();
  });

  it('reports a remote that cannot be cloned as a git failure', async () => {
    await using ws = await seeded();
    await expect(
      requestGrant({ ...base, repo: path.join(ws.root, 'nowhere.git') }),
    ).rejects.toMatchObject({ code: 'PGW_REPO_GIT_FAILED', message: /git failed to clone/ });
  });
});
