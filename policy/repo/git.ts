// simple-git instances for the policy repository tooling: a timeout on every git command, an
// optional fallback commit identity, and git failures wrapped with what was being done.

import { type SimpleGit, simpleGit } from 'simple-git';
import { PolicyRepoError } from './errors.js';

export const DEFAULT_GIT_TIMEOUT_MS = 60_000;

export interface CommitIdentity {
  readonly name: string;
  readonly email: string;
}

export interface GitOptions {
  /** A git command that prints nothing for this long is killed. */
  readonly timeoutMs?: number;
  /** Passed as `-c user.name=… -c user.email=…` (used only where no identity is configured). */
  readonly identity?: CommitIdentity;
  /** Bytes written to the stdin of every command this instance runs (for `git mktree`). */
  readonly input?: string;
}

export function gitAt(dir: string, options: GitOptions = {}): SimpleGit {
  return simpleGit({
    baseDir: dir,
    timeout: { block: options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS },
    ...(options.identity !== undefined
      ? { config: [`user.name=${options.identity.name}`, `user.email=${options.identity.email}`] }
      : {}),
    ...(options.input !== undefined ? { input: () => options.input } : {}),
  });
}

/** Runs one git step; a failure becomes PGW_REPO_GIT_FAILED naming the step. */
export async function gitStep<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const detail = err instanceof Error ? err.message.trim() : String(err);
    throw new PolicyRepoError('PGW_REPO_GIT_FAILED', `git failed to ${what}: ${detail}`, {
      cause: err,
    });
  }
}

/** The configured user.email of the repository (local, global or system), or null. */
export async function configuredEmail(git: SimpleGit): Promise<string | null> {
  try {
    const email = (await git.raw(['config', '--get', 'user.email'])).trim();
    return email === '' ? null : email;
  } catch {
    return null; // `git config --get` exits 1 when the key is not set
  }
}

/**
 * The identity to commit as when git has none configured: the requester's, made into a name and a
 * syntactically valid address.
 */
export function fallbackIdentity(who: string): CommitIdentity {
  const email = /^[^\s@<>]+@[^\s@<>]+$/.test(who)
    ? who
    : `${who.toLowerCase().replace(/[^a-z0-9._-]+/g, '-') || 'pgward'}@users.noreply.pgward.invalid`;
  return { name: who, email };
}

/** A git instance for `dir` that commits as `who` when the repository has no identity of its own. */
export async function committingGit(
  dir: string,
  who: string,
  options: Omit<GitOptions, 'identity'> = {},
): Promise<SimpleGit> {
  const plain = gitAt(dir, options);
  if ((await configuredEmail(plain)) !== null) return plain;
  return gitAt(dir, { ...options, identity: fallbackIdentity(who) });
}
