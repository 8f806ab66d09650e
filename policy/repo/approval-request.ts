// Approval requests as code: the deterministic request id of (identity, database, statement text),
// the approvals/<id>.json a request files (schemas/approval.schema.json), and filing it on a branch
// approval/<id> of the policy source repository with simple-git (plus a pull request with a git host).

import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readPolicySource } from '../bundle/source.js';
import type { Approval, ApprovalId } from '../contracts.js';
import { formatProblems } from '../errors.js';
import { policyValidators, summarizeErrors } from '../schemas.js';
import { PolicyRepoError } from './errors.js';
import { committingGit, gitAt, gitStep } from './git.js';
import type { GitHost, PullRequestResult } from './git-host.js';
import { utcSecond } from './grant-request.js';

export const APPROVAL_SCHEMA_URL = 'https://pgward.dev/schemas/approval.schema.json';
export const DEFAULT_BRANCH_PREFIX = 'approval/';
const MAX_REASON = 2000;

/** The file a request writes: an approval plus the `$schema` line editors use. */
export type ApprovalFile = Approval & { readonly $schema: string };

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * `apr-` + 16 hex of sha256(sub NUL database NUL statement sha256): the same identity, database and
 * exact statement text always name the same request (the separators keep ("ab","c") and ("a","bc") apart).
 */
export function approvalRequestId(sub: string, database: string, sha256: string): ApprovalId {
  const digest = sha256Hex(`${sub}\u0000${database}\u0000${sha256}`);
  return `apr-${digest.slice(0, 16)}` as ApprovalId;
}

export interface ApprovalRequestInput {
  readonly sub: string;
  readonly database: string;
  /** The exact statement text the policy saw (its sha256 is the statement's). */
  readonly sql: string;
  readonly sha256: string;
  /** The analyzer's fingerprint of the statement's shape ('' when unknown). */
  readonly fingerprint: string;
  /** The decision's enforced reasons (the approval triggers that fired). */
  readonly reasons: readonly { readonly rule: string; readonly message: string }[];
  readonly sessionId: string;
  readonly requestedAt: Date;
  /** Requested validity, from requestedAt (to the second). */
  readonly windowMs: number;
}

const invalid = (message: string): PolicyRepoError =>
  new PolicyRepoError('PGW_REPO_REQUEST_INVALID', message);

/** The approval file of a request, valid against schemas/approval.schema.json, or a thrown error. */
export function buildApprovalRequest(input: ApprovalRequestInput): ApprovalFile {
  // SECURITY: the file must describe exactly the text whose digest the policy matches.
  if (sha256Hex(input.sql) !== input.sha256)
    throw invalid('the statement text does not match its sha256');
  if (!(input.windowMs >= 1000)) throw invalid('the approval window must be at least a second');
  const start = Math.floor(input.requestedAt.getTime() / 1000) * 1000;
  const why = input.reasons.map((r) => `${r.rule}: ${r.message}`).join('; ');
  const reason = `Filed by the pgward gateway for ${input.sub} (session ${input.sessionId}). ${why}`;
  const file: ApprovalFile = {
    $schema: APPROVAL_SCHEMA_URL,
    id: approvalRequestId(input.sub, input.database, input.sha256),
    identity: { sub: input.sub },
    database: input.database,
    sql: input.sql,
    sha256: input.sha256,
    ...(input.fingerprint !== '' ? { fingerprint: input.fingerprint } : {}),
    requested_at: input.requestedAt.toISOString(),
    requester: input.sub,
    reason: reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason,
    not_before: utcSecond(start),
    expires_at: utcSecond(start + input.windowMs),
  };
  const validate = policyValidators().approval;
  if (!validate(file))
    throw invalid(`the approval request is invalid: ${summarizeErrors(validate.errors)}`);
  return file;
}

export interface FileApprovalOptions {
  /** Git URL or path of the policy source repository; a working clone stands for its origin. */
  readonly repo: string;
  readonly approval: ApprovalFile;
  /** The branch the request merges into; default the repository's default branch. */
  readonly base?: string;
  /** Default `approval/`. */
  readonly branchPrefix?: string;
  readonly gitHost?: GitHost | null;
  readonly timeoutMs?: number;
  readonly now: Date;
}

export type FileApprovalResult =
  /** A new (or refreshed, its window having ended) request branch was pushed. */
  | {
      readonly outcome: 'filed';
      readonly id: string;
      readonly branch: string;
      readonly base: string;
      readonly commit: string;
      readonly pullRequest: PullRequestResult | null;
    }
  /** The request branch already exists with a live window: nothing was pushed. */
  | { readonly outcome: 'pending'; readonly id: string; readonly branch: string }
  /** The base branch already carries a live approval for this statement (awaiting the bundle). */
  | { readonly outcome: 'granted'; readonly id: string; readonly base: string };

/**
 * Files one approval request: idempotent (a live request branch or approval is left alone), race-safe
 * between gateways (a rejected push of a branch that now exists counts as pending), validated the way
 * CI validates it before anything is pushed.
 */
export async function fileApprovalRequest(
  options: FileApprovalOptions,
): Promise<FileApprovalResult> {
  const timeout = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const { approval } = options;
  const branch = `${options.branchPrefix ?? DEFAULT_BRANCH_PREFIX}${approval.id}`;
  const file = `approvals/${approval.id}.json`;
  const nowMs = options.now.getTime();
  const url = await remoteOf(options.repo, timeout);
  const work = await mkdtemp(path.join(tmpdir(), 'pgward-approval-'));
  try {
    const remoteHas = async () =>
      (
        await gitStep(`look up ${branch}`, () =>
          gitAt(work, timeout).raw(['ls-remote', '--heads', url, `refs/heads/${branch}`]),
        )
      ).trim() !== '';
    const existing = await remoteHas();
    const dir = path.join(work, 'repo');
    await gitStep(`clone ${redact(url)}`, () =>
      gitAt(work, timeout).raw([
        'clone',
        '--quiet',
        '--depth',
        '1',
        '--no-tags',
        ...(options.base !== undefined ? ['--branch', options.base] : []),
        url,
        dir,
      ]),
    );
    const git = await committingGit(dir, approval.requester ?? approval.identity.sub, timeout);
    const base = (await git.raw(['rev-parse', '--abbrev-ref', 'HEAD'])).trim();
    if (live(await readJson(path.join(dir, file)), approval, nowMs))
      return { outcome: 'granted', id: approval.id, base };
    if (existing) {
      await gitStep(`fetch ${branch}`, () =>
        git.raw(['fetch', '--quiet', '--depth', '1', 'origin', `refs/heads/${branch}`]),
      );
      const onBranch = await git.raw(['show', `FETCH_HEAD:${file}`]).catch(() => '');
      if (live(parse(onBranch), approval, nowMs))
        return { outcome: 'pending', id: approval.id, branch };
      // The request's window ended unreviewed: refresh it on top of the same branch.
      await gitStep(`check out ${branch}`, () =>
        git.raw(['checkout', '-q', '-B', branch, 'FETCH_HEAD']),
      );
    } else {
      await gitStep(`create ${branch}`, () => git.raw(['checkout', '-q', '-b', branch]));
    }
    await writeFile(path.join(dir, file), `${JSON.stringify(approval, null, 2)}\n`);

    // The same validation CI runs (schema, digest, naming, maximum lifetime), before anything is pushed.
    const source = await readPolicySource(dir);
    const mine = source.problems.filter((p) => p.file === file);
    if (mine.length > 0) {
      throw new PolicyRepoError(
        'PGW_REPO_REQUEST_INVALID',
        `the approval request is invalid:\n${formatProblems(mine)}`,
        { problems: mine },
      );
    }
    const subject = `approval: ${approval.identity.sub} in ${approval.database}: ${oneLine(approval.sql, 60)}`;
    await gitStep('commit the approval request', async () => {
      await git.raw(['add', '--', file]);
      await git.raw(['commit', '-q', '-m', subject, '-m', commitBody(approval)]);
    });
    const commit = (await git.raw(['rev-parse', 'HEAD'])).trim();
    try {
      await git.raw(['push', '--quiet', 'origin', `${branch}:refs/heads/${branch}`]);
    } catch (err) {
      // Another gateway filed the same request first: the branch now exists, which is the goal.
      if (!existing && (await remoteHas().catch(() => false)))
        return { outcome: 'pending', id: approval.id, branch };
      throw new PolicyRepoError(
        'PGW_REPO_GIT_FAILED',
        `git failed to push ${branch}: ${message(err)}`,
        {
          cause: err,
        },
      );
    }
    const pullRequest = options.gitHost
      ? await options.gitHost.openPullRequest({
          head: branch,
          base,
          title: `Approve for ${approval.identity.sub} in ${approval.database}: ${oneLine(approval.sql, 80)}`,
          body: pullRequestBody(approval, file),
        })
      : null;
    return { outcome: 'filed', id: approval.id, branch, base, commit, pullRequest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** True when `doc` is an approval of the same identity, database and text whose window has not ended. */
function live(doc: unknown, wanted: Approval, nowMs: number): boolean {
  if (!policyValidators().approval(doc)) return false;
  const a = doc as Approval;
  return (
    a.identity.sub === wanted.identity.sub &&
    a.database === wanted.database &&
    a.sha256 === wanted.sha256 &&
    sha256Hex(a.sql) === a.sha256 &&
    nowMs < Date.parse(a.expires_at)
  );
}

async function readJson(file: string): Promise<unknown> {
  try {
    return parse(await readFile(file, 'utf8'));
  } catch {
    return undefined; // absent
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The git URL to use for `repo`: a URL or bare repository as is; a working clone stands for its origin
 * (requests go where reviewers look, and a checked-out branch could not be pushed to).
 */
export async function remoteOf(
  repo: string,
  timeout: { timeoutMs?: number } = {},
): Promise<string> {
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
  if (origin === '') return dir;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(origin) || /^[^/]+@[^:]+:/.test(origin)
    ? origin
    : path.resolve(dir, origin);
}

/** SECURITY: credentials in a URL (https://user:token@host) never reach a message. */
export function redact(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

function message(err: unknown): string {
  return redact(err instanceof Error ? err.message.trim() : String(err)).slice(0, 500);
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function commitBody(a: Approval): string {
  return [
    `Requested by ${a.requester ?? a.identity.sub} through the pgward gateway at ${a.requested_at ?? a.not_before}.`,
    `Valid ${a.not_before} to ${a.expires_at} for the exact statement (sha256 ${a.sha256}):`,
    '',
    a.sql,
  ].join('\n');
}

function pullRequestBody(a: Approval, file: string): string {
  const fence = a.sql.includes('```') ? '~~~~' : '```';
  return [
    `Opened by the pgward gateway: **${a.identity.sub}** ran a statement that needs a human approval.`,
    '',
    `${fence}sql`,
    a.sql,
    fence,
    '',
    '| | |',
    '|---|---|',
    `| identity | \`${a.identity.sub}\` |`,
    `| database | \`${a.database}\` |`,
    `| sha256 | \`${a.sha256}\` |`,
    `| valid | ${a.not_before} → ${a.expires_at} |`,
    `| file | \`${file}\` |`,
    '',
    `> ${(a.reason ?? '').replaceAll('\n', '\n> ')}`,
    '',
    'Merging approves exactly this text, for this identity and database, inside the window, once the',
    'gateways serve the rebuilt bundle. The reviewer must not be the requester; CI checks it.',
  ].join('\n');
}
