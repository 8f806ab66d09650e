// `pgward request`: asks for a just-in-time grant as code. Clones the policy repository, writes
// grants/<id>.json on a branch grant/<id>, checks it the way CI will (schema, lifetime), commits,
// pushes, and — with a git host configured — opens the pull request a reviewer merges.

import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readPolicySource } from '../bundle/source.js';
import type { Grant } from '../contracts.js';
import { formatProblems } from '../errors.js';
import { PolicyRepoError } from './errors.js';
import { committingGit, gitAt, gitStep } from './git.js';
import type { GitHost, PullRequestResult } from './git-host.js';
import { buildGrant, type GrantRequest } from './grant-request.js';

export interface RequestGrantOptions extends GrantRequest {
  /** Git URL or path of the policy repository; a working clone stands for its `origin`. */
  readonly repo: string;
  /** The branch the pull request merges into; default the repository's default branch. */
  readonly base?: string;
  readonly now: Date;
  readonly gitHost?: GitHost | null;
  readonly timeoutMs?: number;
}

export interface RequestGrantResult {
  readonly id: string;
  readonly branch: string;
  readonly base: string;
  readonly file: string;
  readonly grant: Grant;
  readonly commit: string;
  readonly pullRequest: PullRequestResult | null;
}

export async function requestGrant(options: RequestGrantOptions): Promise<RequestGrantResult> {
  const timeout = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const url = await resolveRemote(options.repo, timeout);
  const work = await mkdtemp(path.join(tmpdir(), 'pgward-request-'));
  try {
    const dir = path.join(work, 'repo');
    await gitStep(`clone ${url}`, () => gitAt(work, timeout).raw(['clone', '--quiet', url, dir]));
    const git = await committingGit(dir, options.requester, timeout);
    if (options.base !== undefined)
      await gitStep(`check out ${options.base}`, () => git.raw(['checkout', '-q', options.base!]));
    const base = (await git.raw(['rev-parse', '--abbrev-ref', 'HEAD'])).trim();
    const remoteBranches = new Set(
      (await git.raw(['branch', '-r', '--format=%(refname:short)']))
        .split('\n')
        .map((b) => b.trim().replace(/^origin\//, '')),
    );
    // An id is taken by a grant file on the base branch or by another request's branch.
    const taken = new Set(
      [...remoteBranches]
        .filter((b) => b.startsWith('grant/'))
        .map((b) => b.slice('grant/'.length)),
    );
    for (const name of await readdir(path.join(dir, 'grants')).catch(() => [] as string[]))
      if (name.endsWith('.json')) taken.add(name.slice(0, -'.json'.length));
    const grant = buildGrant(options, options.now, (id) => taken.has(id));

    const branch = `grant/${grant.id}`;
    const file = `grants/${grant.id}.json`;
    await gitStep(`create ${branch}`, () => git.raw(['checkout', '-q', '-b', branch]));
    await writeFile(path.join(dir, file), `${JSON.stringify(grant, null, 2)}\n`);

    // The same validation CI runs (schema, naming, maximum lifetime), before anything is pushed.
    const source = await readPolicySource(dir);
    const mine = source.problems.filter((p) => p.file === file);
    if (mine.length > 0) {
      throw new PolicyRepoError(
        'PGW_REPO_REQUEST_INVALID',
        `the requested grant is invalid:\n${formatProblems(mine)}`,
        { problems: mine },
      );
    }

    const what = describeGrant(grant);
    await gitStep('commit the grant', () =>
      git
        .raw(['add', '--', file])
        .then(() =>
          git.raw([
            'commit',
            '-q',
            '-m',
            `grant: ${what}`,
            '-m',
            `${grant.reason}\n\nRequested by ${grant.requester}; valid ${grant.not_before} to ${grant.expires_at}.`,
          ]),
        ),
    );
    const commit = (await git.raw(['rev-parse', 'HEAD'])).trim();
    await gitStep(`push ${branch}`, () =>
      git.raw(['push', '--quiet', 'origin', `${branch}:refs/heads/${branch}`]),
    );
    const pullRequest = options.gitHost
      ? await options.gitHost.openPullRequest({
          head: branch,
          base,
          title: `Grant ${what}`,
          body: pullRequestBody(grant, file),
        })
      : null;
    return { id: grant.id, branch, base, file, grant, commit, pullRequest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A working clone (`--repo .`) stands for its origin: the request goes where reviewers look. */
async function resolveRemote(repo: string, timeout: { timeoutMs?: number }): Promise<string> {
  const dir = path.resolve(repo);
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) return repo;
  const git = gitAt(dir, timeout);
  const bare = await git.raw(['rev-parse', '--is-bare-repository']).catch(() => 'true');
  if (bare.trim() === 'true') return dir;
  const origin = (await git.raw(['config', '--get', 'remote.origin.url']).catch(() => '')).trim();
  if (origin === '') {
    throw new PolicyRepoError(
      'PGW_REPO_REQUEST_INVALID',
      `${dir} is a working clone without an origin remote; pass the repository URL as --repo`,
    );
  }
  // A relative path remote is relative to the clone.
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(origin) || /^[^/]+@[^:]+:/.test(origin)
    ? origin
    : path.resolve(dir, origin);
}

function describeGrant(grant: Grant): string {
  const who = 'sub' in grant.subject ? grant.subject.sub : `group:${grant.subject.group}`;
  const what = grant.objects
    .map((o) => `${o.actions.join(',')} on ${o.schema}.${o.table}`)
    .join('; ');
  const hours = (Date.parse(grant.expires_at) - Date.parse(grant.not_before)) / 3_600_000;
  const span = hours >= 1 ? `${+hours.toFixed(2)}h` : `${Math.round(hours * 60)}m`;
  return `${who} ${what} in ${grant.database} for ${span}`;
}

function pullRequestBody(grant: Grant, file: string): string {
  return [
    `Opened by \`pgward request\` for **${grant.requester}**.`,
    '',
    `> ${grant.reason.replaceAll('\n', '\n> ')}`,
    '',
    '| | |',
    '|---|---|',
    `| subject | \`${JSON.stringify(grant.subject)}\` |`,
    `| database | \`${grant.database}\` |`,
    ...grant.objects.map(
      (o) => `| \`${o.schema}.${o.table}\` | ${o.actions.map((a) => `\`${a}\``).join(' ')} |`,
    ),
    `| valid | ${grant.not_before} → ${grant.expires_at} |`,
    `| file | \`${file}\` |`,
    '',
    "Merging this pull request grants the access at the gateways' next policy pull; it ends at",
    '`expires_at` by itself. The reviewer must not be the requester.',
  ].join('\n');
}
