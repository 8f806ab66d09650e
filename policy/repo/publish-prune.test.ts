// publish (bundle branch commits built with git plumbing) and prune (expired grants on a branch),
// against a real bare remote.
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitWorkspace } from '../../test/harness/git.js';
import {
  type BuiltBundle,
  buildTemplateBundle,
  TEMPLATE_DIR,
  TEST_REVISION,
  tempDir,
} from '../testing/template-bundle.js';
import type { GitHost, PullRequestSpec } from './git-host.js';
import { expiredEntries, prunePolicyRepo } from './prune.js';
import { publishBundle } from './publish.js';

let bundle: BuiltBundle;
beforeAll(async () => {
  bundle = await buildTemplateBundle();
});
afterAll(async () => {
  await bundle?.[Symbol.asyncDispose]();
});

describe('publishBundle', () => {
  it('pushes one commit whose tree is exactly the bundle, message naming the source, parented on the last', async () => {
    await using ws = await createGitWorkspace();
    const ci = await ws.clone('ci');
    await writeFile(path.join(ci.dir, 'README.md'), 'policy\n');
    await ci.commitAll('init');
    await ci.git.raw(['push', '-q', 'origin', 'HEAD:refs/heads/main']);

    const first = await publishBundle({
      repoDir: ci.dir,
      bundleDir: bundle.path,
      branch: 'pgward-bundle',
    });
    expect(first).toMatchObject({ parent: null, revision: TEST_REVISION, branch: 'pgward-bundle' });
    expect(await ws.remoteHead('pgward-bundle')).toBe(first.commit);
    const tree = await ci.git.raw(['ls-tree', '--name-only', first.commit]);
    expect(tree.trim().split('\n')).toEqual([
      'canary.json',
      'data.json',
      'manifest.json',
      'policy.wasm',
    ]);
    const message = await ci.git.raw(['log', '-1', '--format=%B', first.commit]);
    expect(message).toContain(`Source commit: ${TEST_REVISION}`);
    for (const name of ['manifest.json', 'data.json']) {
      const blob = await ci.git.raw(['show', `${first.commit}:${name}`]);
      expect(blob).toBe(await readFile(path.join(bundle.path, name), 'utf8'));
    }

    const second = await publishBundle({
      repoDir: ci.dir,
      bundleDir: bundle.path,
      branch: 'pgward-bundle',
    });
    expect(second.parent).toBe(first.commit);
    expect(await ws.remoteHead('pgward-bundle')).toBe(second.commit);
    // The work tree and main are untouched.
    expect((await ci.git.raw(['status', '--porcelain'])).trim()).toBe('');
    expect(await ws.remoteHead('main')).toBe(await ci.head());
  });

  it('refuses a bundle that does not verify, and pushes nothing', async () => {
    await using ws = await createGitWorkspace();
    const ci = await ws.clone('ci');
    await using broken = await tempDir();
    await cp(bundle.path, broken.path, { recursive: true });
    await writeFile(path.join(broken.path, 'data.json'), '{}');
    await expect(
      publishBundle({ repoDir: ci.dir, bundleDir: broken.path, branch: 'pgward-bundle' }),
    ).rejects.toMatchObject({ code: 'PGW_REPO_BUNDLE_INVALID', message: /sha256|bytes/ });
    expect(await ws.remoteHead('pgward-bundle')).toBeNull();
  });
});

describe('prune', () => {
  it('finds expired grants and approvals, removes them on a branch, pushes it and opens the PR', async () => {
    await using ws = await createGitWorkspace();
    const ci = await ws.clone('ci');
    await cp(TEMPLATE_DIR, ci.dir, { recursive: true });
    await ci.commitAll('policy');
    await ci.git.raw(['push', '-q', 'origin', 'HEAD:refs/heads/main']);

    const now = new Date('2026-11-26T12:00:00Z');
    expect(await expiredEntries(ci.dir, now)).toEqual([
      {
        file: 'grants/2026-11-25-support-alice-customer-contact.json',
        expiresAt: '2026-11-26T12:00:00Z',
      },
    ]);
    const opened: PullRequestSpec[] = [];
    const gitHost: GitHost = {
      openPullRequest: async (spec) => {
        opened.push(spec);
        return { outcome: 'exists' };
      },
    };
    const result = await prunePolicyRepo({
      repoDir: ci.dir,
      now,
      branch: 'prune/expired',
      push: true,
      gitHost,
    });
    expect(result).toMatchObject({
      base: 'main',
      pushed: true,
      pullRequest: { outcome: 'exists' },
    });
    expect(await ws.remoteHead('prune/expired')).toBe(result.commit);
    const removed = await ci.git.raw(['diff', '--name-status', 'main', 'prune/expired']);
    expect(removed.trim()).toBe('D\tgrants/2026-11-25-support-alice-customer-contact.json');
    expect(opened).toEqual([expect.objectContaining({ head: 'prune/expired', base: 'main' })]);
    // Back on main, unchanged.
    expect((await ci.git.raw(['rev-parse', '--abbrev-ref', 'HEAD'])).trim()).toBe('main');
    expect(await ws.remoteHead('main')).toBe(await ci.head());

    const early = await prunePolicyRepo({
      repoDir: ci.dir,
      now: new Date('2026-11-25T00:00:00Z'),
      branch: 'prune/expired',
      push: true,
    });
    expect(early).toMatchObject({ removed: [], commit: null, pushed: false });
  });
});
