// `pgward policy publish`: pushes a built bundle to the bundle branch as one commit whose tree is
// exactly the bundle files and whose message names the source commit. Run from the CI checkout,
// so the push uses the checkout's own credentials. Plumbing only: the work tree is not touched.

import path from 'node:path';
import { loadBundle } from '../bundle/load.js';
import { MANIFEST_FILE } from '../bundle/manifest.js';
import { PolicyRepoError } from './errors.js';
import { committingGit, gitAt, gitStep } from './git.js';

export interface PublishBundleOptions {
  /** A clone of the policy repository (the CI checkout). */
  readonly repoDir: string;
  /** A bundle built by `pgward policy build`. */
  readonly bundleDir: string;
  readonly branch: string;
  readonly remote?: string;
  readonly timeoutMs?: number;
}

export interface PublishBundleResult {
  readonly branch: string;
  readonly commit: string;
  readonly parent: string | null;
  /** The source commit the bundle was built from (manifest revision). */
  readonly revision: string;
}

const BRANCH = /^[A-Za-z0-9._/-]+$/;

export async function publishBundle(options: PublishBundleOptions): Promise<PublishBundleResult> {
  const remote = options.remote ?? 'origin';
  if (!BRANCH.test(options.branch) || options.branch.startsWith('-'))
    throw new PolicyRepoError(
      'PGW_REPO_BUNDLE_INVALID',
      `"${options.branch}" is not a branch name`,
    );
  // Never publish what a gateway would reject for its manifest or hashes.
  const bundle = await loadBundle(options.bundleDir);
  if (!bundle.ok) {
    throw new PolicyRepoError(
      'PGW_REPO_BUNDLE_INVALID',
      `bundle ${options.bundleDir} does not verify: ${bundle.message} (${bundle.code})`,
    );
  }
  const { manifest } = bundle;
  const timeout = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const git = gitAt(options.repoDir, timeout);

  const entries: string[] = [];
  for (const name of [MANIFEST_FILE, ...manifest.files.map((f) => f.path)].sort()) {
    const file = path.resolve(options.bundleDir, name);
    const blob = await gitStep(`store ${name}`, () => git.raw(['hash-object', '-w', '--', file]));
    entries.push(`100644 blob ${blob.trim()}\t${name}\n`);
  }
  const tree = (
    await gitStep('write the bundle tree', () =>
      gitAt(options.repoDir, { ...timeout, input: entries.join('') }).raw(['mktree']),
    )
  ).trim();

  const remoteHead = await gitStep(`list ${remote} ${options.branch}`, () =>
    git.raw(['ls-remote', '--heads', remote, `refs/heads/${options.branch}`]),
  );
  const parent = remoteHead.trim().split(/\s+/)[0] || null;
  if (parent !== null) {
    const shallow =
      (await git.raw(['rev-parse', '--is-shallow-repository']).catch(() => 'false')).trim() ===
      'true';
    await gitStep(`fetch ${remote} ${options.branch}`, () =>
      git.raw([
        'fetch',
        '--no-tags',
        ...(shallow ? ['--depth', '1'] : []),
        remote,
        `+refs/heads/${options.branch}:refs/remotes/${remote}/${options.branch}`,
      ]),
    );
  }
  const message =
    `pgward bundle ${manifest.revision}\n\n` +
    `Source commit: ${manifest.revision}\n` +
    `Built at: ${manifest.built_at}\n` +
    `OPA: ${manifest.opa_version}\n` +
    `Signed: ${manifest.signature === undefined ? 'no' : `yes (${manifest.signature.key_id})`}\n`;
  const committer = await committingGit(options.repoDir, 'pgward bundle publisher', timeout);
  const commit = (
    await gitStep('commit the bundle', () =>
      committer.raw([
        'commit-tree',
        tree,
        ...(parent !== null ? ['-p', parent] : []),
        '-m',
        message,
      ]),
    )
  ).trim();
  await gitStep(`push ${options.branch} to ${remote}`, () =>
    git.raw(['push', '--quiet', remote, `${commit}:refs/heads/${options.branch}`]),
  );
  return { branch: options.branch, commit, parent, revision: manifest.revision };
}
