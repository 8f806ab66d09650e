// `pgward policy prune`: finds grants and approvals whose expires_at has passed and removes them on
// a branch (prune/expired, force-updated while its pull request is open), pushes it and opens the
// pull request. Expired grants already stop matching at their second; this keeps main tidy.

import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { readBytesBounded } from '../bundle/files.js';
import { committingGit, gitAt, gitStep } from './git.js';
import type { GitHost, PullRequestResult } from './git-host.js';

export interface ExpiredEntry {
  /** `grants/<id>.json`. */
  readonly file: string;
  readonly expiresAt: string;
}

const MAX_JSON_BYTES = 4 * 1024 * 1024;

/** Grant and approval files whose expires_at is at or before `now`; unreadable files are left alone. */
export async function expiredEntries(sourceDir: string, now: Date): Promise<ExpiredEntry[]> {
  const out: ExpiredEntry[] = [];
  for (const dir of ['grants', 'approvals']) {
    const names = await readdir(path.join(sourceDir, dir)).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      const read = await readBytesBounded(path.join(sourceDir, dir, name), MAX_JSON_BYTES);
      if (!read.ok) continue;
      let expiresAt: unknown;
      try {
        expiresAt = (JSON.parse(read.bytes.toString('utf8')) as { expires_at?: unknown })
          .expires_at;
      } catch {
        continue; // invalid JSON is CI's to report, not prune's to delete
      }
      if (typeof expiresAt !== 'string') continue;
      const at = Date.parse(expiresAt);
      if (Number.isFinite(at) && at <= now.getTime())
        out.push({ file: `${dir}/${name}`, expiresAt });
    }
  }
  return out;
}

export interface PruneOptions {
  /** A clone of the policy repository, on the branch to prune (main). */
  readonly repoDir: string;
  readonly now: Date;
  readonly branch: string;
  readonly remote?: string;
  readonly push: boolean;
  /** Opens the pull request when given (and push is set). */
  readonly gitHost?: GitHost | null;
  readonly timeoutMs?: number;
}

export interface PruneResult {
  readonly removed: readonly ExpiredEntry[];
  readonly base: string;
  readonly commit: string | null;
  readonly pushed: boolean;
  readonly pullRequest: PullRequestResult | null;
}

export async function prunePolicyRepo(options: PruneOptions): Promise<PruneResult> {
  const remote = options.remote ?? 'origin';
  const timeout = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const git = await committingGit(options.repoDir, 'pgward prune', timeout);
  const current = (
    await gitAt(options.repoDir, timeout).raw(['rev-parse', '--abbrev-ref', 'HEAD'])
  ).trim();
  const base = current === 'HEAD' ? 'main' : current;
  const removed = await expiredEntries(options.repoDir, options.now);
  if (removed.length === 0)
    return { removed, base, commit: null, pushed: false, pullRequest: null };

  await gitStep(`create branch ${options.branch}`, () =>
    git.raw(['checkout', '-q', '-B', options.branch]),
  );
  let commit: string;
  try {
    await gitStep('remove expired files', () =>
      git.raw(['rm', '-q', '--', ...removed.map((e) => e.file)]),
    );
    const body = removed.map((e) => `- ${e.file} (expired ${e.expiresAt})`).join('\n');
    await gitStep('commit the pruning', () =>
      git.raw(['commit', '-q', '-m', `chore(grants): prune ${removed.length} expired`, '-m', body]),
    );
    commit = (await git.raw(['rev-parse', 'HEAD'])).trim();
    if (options.push) {
      await gitStep(`push ${options.branch}`, () =>
        git.raw(['push', '--quiet', '--force', remote, `HEAD:refs/heads/${options.branch}`]),
      );
    }
  } finally {
    if (current !== 'HEAD') await git.raw(['checkout', '-q', current]).catch(() => undefined);
  }
  const pullRequest =
    options.push && options.gitHost
      ? await options.gitHost.openPullRequest({
          head: options.branch,
          base,
          title: `Prune ${removed.length} expired grant${removed.length === 1 ? '' : 's'}`,
          body:
            'Opened by `pgward policy prune`. These grants and approvals no longer match any ' +
            'statement; removing them changes no decision.\n\n' +
            removed.map((e) => `- \`${e.file}\` (expired ${e.expiresAt})`).join('\n'),
        })
      : null;
  return { removed, base, commit, pushed: options.push, pullRequest };
}
