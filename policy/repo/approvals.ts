// Approvals in the policy repository: check one approval file (schema, digest, window, and that the
// approver is not the requester), list pending requests (open approval/* branches) and granted
// approvals (approvals/*.json on the base branch), and approve a request by merging its branch.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Approval, PolicyProblem } from '../contracts.js';
import { formatProblems } from '../errors.js';
import { policyValidators, toProblems } from '../schemas.js';
import { DEFAULT_BRANCH_PREFIX, redact, remoteOf, sha256Hex } from './approval-request.js';
import { PolicyRepoError } from './errors.js';
import { committingGit, fallbackIdentity, gitAt, gitStep } from './git.js';

export interface ApprovalCheckOptions {
  /** Who approves (a GitHub login, or the reviewer's name or e-mail). */
  readonly approver: string;
  /** Whom the approver must not be, besides the file's requester when `requesterFromFile`. */
  readonly requester?: string;
  /** The file's `requester` and `identity.sub` are the requester. */
  readonly requesterFromFile?: boolean;
  /** The file's path: its name must be `<id>.json`. */
  readonly file?: string;
}

export interface ApprovalCheck {
  readonly ok: boolean;
  readonly approval: Approval | null;
  readonly problems: readonly PolicyProblem[];
}

/** Checks one approval document as the build does: schema, sha256 of the exact sql, window, file name. */
export function checkApprovalFile(doc: unknown, fileName?: string): ApprovalCheck {
  const file = fileName ?? 'approval';
  const validate = policyValidators().approval;
  if (!validate(doc))
    return { ok: false, approval: null, problems: toProblems(file, validate.errors) };
  const approval = doc as Approval;
  const problems: PolicyProblem[] = [];
  const digest = sha256Hex(approval.sql);
  if (digest !== approval.sha256)
    problems.push({ file, pointer: '/sha256', message: `is not the sha256 of sql (${digest})` });
  if (!(Date.parse(approval.expires_at) > Date.parse(approval.not_before)))
    problems.push({ file, pointer: '/expires_at', message: 'must be after not_before' });
  if (fileName !== undefined && path.basename(fileName) !== `${approval.id}.json`)
    problems.push({
      file,
      pointer: '/id',
      message: `must match the file name (${approval.id}.json)`,
    });
  return { ok: problems.length === 0, approval, problems };
}

/**
 * Checks one approval document the way CI does on the pull request: the file checks, and the
 * four-eyes rule, that the approver is not the requester.
 */
export function checkApproval(doc: unknown, options: ApprovalCheckOptions): ApprovalCheck {
  const checked = checkApprovalFile(doc, options.file);
  const approval = checked.approval;
  if (approval === null) return checked;
  const file = options.file ?? 'approval';
  const problems = [...checked.problems];
  const requesters = [
    ...(options.requester !== undefined ? [options.requester] : []),
    ...(options.requesterFromFile
      ? [approval.requester ?? approval.identity.sub, approval.identity.sub]
      : []),
  ];
  if (options.approver.trim() === '')
    problems.push({ file, pointer: '', message: 'names no approver' });
  else if (requesters.length === 0)
    problems.push({
      file,
      pointer: '',
      message: 'no requester to compare the approver with (--requester or --requester-from-file)',
    });
  for (const r of new Set(requesters)) {
    if (samePerson(options.approver, r)) {
      problems.push({
        file,
        pointer: '/requester',
        message: `is approved by ${options.approver}, who is its requester (${r}): another reviewer must approve`,
      });
    }
  }
  return { ok: problems.length === 0, approval, problems };
}

/**
 * True when two names may be the same person: equal ignoring case and a leading `@`, or one is an
 * e-mail address whose local part is the other name (or the other's local part). Errs towards "same".
 */
export function samePerson(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().toLowerCase().replace(/^@/, '');
  const x = norm(a);
  const y = norm(b);
  if (x === '' || y === '') return false;
  const local = (s: string) => (s.includes('@') ? s.slice(0, s.indexOf('@')) : s);
  return x === y || local(x) === local(y);
}

export interface ListApprovalsOptions {
  readonly repo: string;
  readonly base?: string;
  readonly branchPrefix?: string;
  readonly now: Date;
  readonly timeoutMs?: number;
}

export type ApprovalState = 'active' | 'expired' | 'scheduled';

export interface PendingApproval {
  readonly id: string;
  readonly branch: string;
  readonly commit: string;
  /** The request's file, or null when the branch holds none that is valid (see problems). */
  readonly approval: Approval | null;
  readonly problems: readonly PolicyProblem[];
}

export interface GrantedApproval {
  readonly id: string;
  readonly approval: Approval;
  readonly state: ApprovalState;
}

export interface ApprovalListing {
  readonly base: string;
  readonly pending: readonly PendingApproval[];
  readonly granted: readonly GrantedApproval[];
  /** approvals/ files on the base branch that do not pass the checks (the build refuses them). */
  readonly invalid: readonly PolicyProblem[];
}

const MAX_LISTED = 10_000;

/** Pending requests (unmerged `approval/*` branches) and approvals on the base branch. */
export async function listApprovals(options: ListApprovalsOptions): Promise<ApprovalListing> {
  const timeout = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const prefix = options.branchPrefix ?? DEFAULT_BRANCH_PREFIX;
  const url = await remoteOf(options.repo, timeout);
  const work = await mkdtemp(path.join(tmpdir(), 'pgward-approvals-'));
  try {
    const git = gitAt(work, timeout);
    await git.raw(['init', '--bare', '--quiet']);
    const base = options.base ?? (await defaultBranch(git, url));
    await gitStep(`fetch ${redact(url)}`, () =>
      git.raw(['fetch', '--quiet', '--no-tags', url, '+refs/heads/*:refs/remotes/origin/*']),
    );
    const baseRef = `refs/remotes/origin/${base}`;
    await gitStep(`find ${base}`, () => git.raw(['rev-parse', '--verify', `${baseRef}^{commit}`]));
    const nowMs = options.now.getTime();

    const granted: GrantedApproval[] = [];
    const invalid: PolicyProblem[] = [];
    const names = (
      await git.raw(['ls-tree', '-z', '--name-only', `${baseRef}:approvals`]).catch(() => '')
    )
      .split('\0')
      .filter((n) => n.endsWith('.json'))
      .slice(0, MAX_LISTED);
    for (const name of names) {
      const file = `approvals/${name}`;
      const check = checkStored(await show(git, baseRef, file), file);
      if (check.approval === null || check.problems.length > 0) {
        invalid.push(...check.problems);
        continue;
      }
      const a = check.approval;
      const state: ApprovalState =
        nowMs < Date.parse(a.not_before)
          ? 'scheduled'
          : nowMs < Date.parse(a.expires_at)
            ? 'active'
            : 'expired';
      granted.push({ id: a.id, approval: a, state });
    }

    const pending: PendingApproval[] = [];
    const refs = (
      await git.raw([
        'for-each-ref',
        '--format=%(refname)%00%(objectname)',
        // A pattern matches whole path components: the prefix without its trailing slash.
        `refs/remotes/origin/${prefix.replace(/\/+$/, '')}`,
      ])
    )
      .split('\n')
      .filter((l) => l.startsWith(`refs/remotes/origin/${prefix}`))
      .slice(0, MAX_LISTED);
    for (const line of refs) {
      const [ref, commit] = line.split('\0') as [string, string];
      const branch = ref.slice('refs/remotes/origin/'.length);
      const id = branch.slice(prefix.length);
      // A branch already merged into the base is not pending any more (its tip is a base ancestor).
      // (`merge-base --is-ancestor` answers by exit code alone, which simple-git does not report.)
      const common = await git.raw(['merge-base', commit, baseRef]).catch(() => '');
      const merged = common.trim() === commit;
      if (merged) continue;
      const file = `approvals/${id}.json`;
      const check = checkStored(await show(git, commit, file), file);
      pending.push({
        id,
        branch,
        commit,
        approval: check.approval,
        problems: check.problems,
      });
    }
    return { base, pending, granted, invalid };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface ApproveOptions {
  readonly repo: string;
  readonly id: string;
  /** Who approves; the merge commit is theirs. */
  readonly reviewer: string;
  readonly base?: string;
  readonly branchPrefix?: string;
  readonly now: Date;
  readonly timeoutMs?: number;
  /** Delete the request branch after the merge (as a git host does); default true. */
  readonly deleteBranch?: boolean;
}

export interface ApproveResult {
  readonly id: string;
  readonly base: string;
  readonly branch: string;
  /** The merge commit pushed to the base branch. */
  readonly commit: string;
  readonly approval: Approval;
}

/**
 * Approves a pending request as a reviewer would on the git host: refuses a branch that changes
 * anything but its approval file, an invalid or expired file, and a reviewer who is the requester;
 * then merges the branch into the base (no fast-forward), pushes, and deletes the branch.
 */
export async function approveRequest(options: ApproveOptions): Promise<ApproveResult> {
  const timeout = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const branch = `${options.branchPrefix ?? DEFAULT_BRANCH_PREFIX}${options.id}`;
  const file = `approvals/${options.id}.json`;
  const refuse = (message: string, problems: readonly PolicyProblem[] = []) =>
    new PolicyRepoError('PGW_REPO_REQUEST_INVALID', message, { problems });
  const url = await remoteOf(options.repo, timeout);
  const work = await mkdtemp(path.join(tmpdir(), 'pgward-approve-'));
  try {
    const dir = path.join(work, 'repo');
    await gitStep(`clone ${redact(url)}`, () =>
      gitAt(work, timeout).raw([
        'clone',
        '--quiet',
        '--no-tags',
        ...(options.base !== undefined ? ['--branch', options.base] : []),
        url,
        dir,
      ]),
    );
    // The merge is the reviewer's: an explicit reviewer commits under that name.
    const git =
      options.reviewer.trim() === ''
        ? await committingGit(dir, 'pgward', timeout)
        : gitAt(dir, { ...timeout, identity: fallbackIdentity(options.reviewer.trim()) });
    const base = (await git.raw(['rev-parse', '--abbrev-ref', 'HEAD'])).trim();
    const head = await git
      .raw(['rev-parse', '--verify', `refs/remotes/origin/${branch}^{commit}`])
      .catch(() => '');
    if (head.trim() === '')
      throw refuse(`no pending approval request ${options.id} (branch ${branch})`);
    const changed = (await git.raw(['diff', '--name-only', `HEAD...origin/${branch}`]))
      .split('\n')
      .filter((f) => f !== '');
    // SECURITY: approving a request must not merge any other policy change along with it.
    const others = changed.filter((f) => f !== file);
    if (others.length > 0 || !changed.includes(file)) {
      throw refuse(
        `${branch} changes ${others.length > 0 ? others.join(', ') : 'nothing'} besides ${file}: review it as a policy change, not as an approval`,
      );
    }
    const check = checkApproval(await show(git, `origin/${branch}`, file), {
      approver: options.reviewer,
      requesterFromFile: true,
      file,
    });
    if (!check.ok || check.approval === null)
      throw refuse(
        `${file} cannot be approved:\n${formatProblems(check.problems)}`,
        check.problems,
      );
    const approval = check.approval;
    if (options.now.getTime() >= Date.parse(approval.expires_at)) {
      throw refuse(
        `approval request ${options.id} asked for a window that ended at ${approval.expires_at}; running the statement again files a fresh one`,
      );
    }
    await gitStep(`merge ${branch}`, () =>
      git.raw([
        'merge',
        '--quiet',
        '--no-ff',
        '-m',
        `approve ${options.id}: merge ${branch}`,
        '-m',
        `Approved by ${options.reviewer} for ${approval.identity.sub} in ${approval.database}, valid ${approval.not_before} to ${approval.expires_at}.`,
        `origin/${branch}`,
      ]),
    );
    const commit = (await git.raw(['rev-parse', 'HEAD'])).trim();
    await gitStep(`push ${base}`, () =>
      git.raw(['push', '--quiet', 'origin', `HEAD:refs/heads/${base}`]),
    );
    if (options.deleteBranch !== false) {
      await gitStep(`delete ${branch}`, () =>
        git.raw(['push', '--quiet', 'origin', `:refs/heads/${branch}`]),
      );
    }
    return { id: options.id, base, branch, commit, approval };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function defaultBranch(git: ReturnType<typeof gitAt>, url: string): Promise<string> {
  const out = await gitStep(`read the default branch of ${redact(url)}`, () =>
    git.raw(['ls-remote', '--symref', url, 'HEAD']),
  );
  const m = /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(out);
  return m?.[1] ?? 'main';
}

async function show(git: ReturnType<typeof gitAt>, rev: string, file: string): Promise<unknown> {
  const text = await git.raw(['show', `${rev}:${file}`]).catch(() => null);
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** A stored approval: the file checks (the approver rule is CI's, on the pull request). */
function checkStored(doc: unknown, file: string): ApprovalCheck {
  if (doc === undefined)
    return { ok: false, approval: null, problems: [{ file, pointer: '', message: 'is missing' }] };
  if (doc === null)
    return {
      ok: false,
      approval: null,
      problems: [{ file, pointer: '', message: 'is not valid JSON' }],
    };
  return checkApprovalFile(doc, file);
}
