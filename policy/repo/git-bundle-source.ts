// The gateway's policy source in git: fetches the bundle branch (simple-git) into a work directory at
// start, every poll_ms and on demand (the webhook), and for each new commit verifies the bundle
// (manifest, hashes, signature), loads it, runs its canaries and only then swaps it in. A bad bundle
// is rejected with one clear log line; the last good one keeps serving (none: everything is denied).

import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PgwardError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { PgwardConfigResolved, SecretRef } from '../../schemas/generated/config.js';
import { type BundleLoadFailureCode, loadBundle } from '../bundle/load.js';
import { MANIFEST_FILE } from '../bundle/manifest.js';
import { BUNDLE_FILES } from '../contracts.js';
import { runCanaries } from '../decider/canary.js';
import { createEvaluator, type Evaluator, type EvaluatorFaultCode } from '../decider/evaluator.js';
import { gitAt } from './git.js';

/** Where a verified evaluator goes: the gateway's swappable policy source. */
export interface BundleTarget {
  /** Serves `next` from now on; `data` is the bundle's data document (grants, approvals, rules). */
  swap(next: Evaluator, data?: unknown): void;
  readonly revision: string | null;
}

export type BundleRejectCode =
  | BundleLoadFailureCode
  | EvaluatorFaultCode
  | 'PGW_BUNDLE_CANARY_FAILED'
  | 'PGW_BUNDLE_ROLLBACK'
  | 'PGW_BUNDLE_TREE_INVALID';

export type PullOutcome =
  | { readonly outcome: 'swapped'; readonly commit: string; readonly revision: string }
  | { readonly outcome: 'unchanged'; readonly commit: string; readonly revision: string | null }
  | {
      readonly outcome: 'rejected';
      readonly commit: string;
      readonly code: BundleRejectCode;
      readonly message: string;
      /** The revision that keeps serving (null: none, everything is denied). */
      readonly revision: string | null;
    }
  | { readonly outcome: 'unavailable'; readonly message: string; readonly revision: string | null };

export interface GitBundleSourceOptions {
  readonly url: string;
  readonly branch: string;
  readonly pollMs: number;
  /** Upper bound of one git command. */
  readonly timeoutMs: number;
  /** This source's own directory (one per worker). */
  readonly workdir: string;
  /** When set, only bundles signed by one of these keys (by key_id) are loaded. */
  readonly trustedKeys?: ReadonlyMap<string, KeyObject>;
  readonly maxMemoryPages: number;
  readonly log: Logger;
}

export interface GitBundleSource extends AsyncDisposable {
  /** The first pull, then polling every pollMs. Resolves whatever the outcome: never throws. */
  start(target: BundleTarget): Promise<PullOutcome>;
  /** Fetches now (coalesced with a pull in flight); the webhook calls this. */
  pullNow(): Promise<PullOutcome>;
  /** Completed pulls, for tests and metrics. */
  readonly pulls: number;
  stop(): Promise<void>;
}

const MAX_FILE_BYTES = 64 * 1024 * 1024;
const ALLOWED = new Set<string>([MANIFEST_FILE, ...BUNDLE_FILES]);
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export function createGitBundleSource(options: GitBundleSourceOptions): GitBundleSource {
  const { log } = options;
  const repoDir = path.join(options.workdir, 'repo.git');
  const bundlesDir = path.join(options.workdir, 'bundles');
  const git = () => gitAt(repoDir, { timeoutMs: options.timeoutMs });
  const localRef = `refs/pgward/${options.branch}`;

  let target: BundleTarget | null = null;
  /** The last commit examined (swapped or rejected): the same commit is not examined twice. */
  let examined: string | null = null;
  let serving: { commit: string; builtAt: string } | null = null;
  let inflight: Promise<PullOutcome> | null = null;
  let queued: Promise<PullOutcome> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let pulls = 0;
  let initialized = false;

  const revision = () => target?.revision ?? null;

  const ensureRepo = async (): Promise<void> => {
    if (initialized) return;
    await mkdir(repoDir, { recursive: true });
    await gitAt(repoDir, { timeoutMs: options.timeoutMs }).raw(['init', '--bare', '--quiet']);
    initialized = true;
  };

  const fetchTip = async (): Promise<string> => {
    await ensureRepo();
    await git().raw([
      'fetch',
      '--quiet',
      '--no-tags',
      '--depth',
      '1',
      options.url,
      `+refs/heads/${options.branch}:${localRef}`,
    ]);
    return (await git().raw(['rev-parse', '--verify', `${localRef}^{commit}`])).trim();
  };

  /** Writes the bundle files of `commit` into a fresh directory, checking names and sizes first. */
  const extract = async (commit: string): Promise<string | { message: string }> => {
    const listing = await git().raw(['ls-tree', '-l', '-z', commit]);
    const dir = path.join(bundlesDir, commit);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    for (const entry of listing.split('\0')) {
      if (entry === '') continue;
      const m = /^(\d+) (\w+) ([0-9a-f]+)\s+(\d+|-)\t(.+)$/.exec(entry);
      if (m === null) return { message: `unexpected tree entry ${JSON.stringify(entry)}` };
      const [, mode, type, sha, size, name] = m as unknown as [
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      if (!ALLOWED.has(name)) continue; // a README beside the bundle is not part of it
      if (type !== 'blob' || mode !== '100644') return { message: `${name} is not a regular file` };
      if (Number(size) > MAX_FILE_BYTES)
        return { message: `${name} is ${size} bytes, above the limit of ${MAX_FILE_BYTES}` };
      const bytes = (await git().binaryCatFile(['blob', sha])) as Buffer;
      await writeFile(path.join(dir, name), bytes);
    }
    return dir;
  };

  const reject = (commit: string, code: BundleRejectCode, message: string): PullOutcome => {
    examined = commit;
    const keeps = revision();
    log.error(
      keeps === null
        ? 'policy bundle rejected; no bundle is serving, every statement is denied'
        : 'policy bundle rejected; the last good bundle keeps serving',
      { commit, code, reason: message, serving: keeps, branch: options.branch },
    );
    return { outcome: 'rejected', commit, code, message, revision: keeps };
  };

  const pullOnce = async (): Promise<PullOutcome> => {
    let commit: string;
    try {
      commit = await fetchTip();
    } catch (err) {
      const detail = redactUrls((err as Error).message.trim()).slice(0, 500);
      const message = `cannot fetch ${options.branch}: ${detail}`;
      log.warn('policy bundle fetch failed', {
        branch: options.branch,
        reason: message,
        serving: revision(),
      });
      return { outcome: 'unavailable', message, revision: revision() };
    }
    if (!SHA.test(commit)) return reject(commit, 'PGW_BUNDLE_TREE_INVALID', 'not a commit id');
    if (commit === examined) return { outcome: 'unchanged', commit, revision: revision() };

    /** Only the serving bundle's directory stays on disk (the evaluator holds its own copy). */
    const keep = async (swapped: boolean): Promise<void> => {
      const stay = swapped ? commit : (serving?.commit ?? null);
      for (const name of await readdir(bundlesDir).catch(() => [] as string[]))
        if (name !== stay) await rm(path.join(bundlesDir, name), { recursive: true, force: true });
    };
    const dir = await extract(commit);
    if (typeof dir !== 'string') {
      await keep(false);
      return reject(commit, 'PGW_BUNDLE_TREE_INVALID', dir.message);
    }
    const bundle = await loadBundle(dir, {
      ...(options.trustedKeys !== undefined ? { trustedKeys: options.trustedKeys } : {}),
    });
    if (!bundle.ok) {
      await keep(false);
      return reject(commit, bundle.code, bundle.message);
    }
    // SECURITY: a validly signed but older bundle must not replace a newer one (rollback).
    if (serving !== null && bundle.manifest.built_at < serving.builtAt) {
      await keep(false);
      return reject(
        commit,
        'PGW_BUNDLE_ROLLBACK',
        `bundle built at ${bundle.manifest.built_at} is older than the serving one (${serving.builtAt})`,
      );
    }
    const evaluator = await createEvaluator(bundle, {
      maxMemoryPages: options.maxMemoryPages,
      onFault: (fault) =>
        log.error('policy evaluation fault', { code: fault.code, message: fault.message }),
    });
    if (evaluator.failure !== null) {
      await keep(false);
      return reject(commit, evaluator.failure.code, evaluator.failure.message);
    }
    const canaries = runCanaries(evaluator, bundle.canaries);
    if (!canaries.ok) {
      await keep(false);
      const first = canaries.failures[0];
      return reject(
        commit,
        'PGW_BUNDLE_CANARY_FAILED',
        `${canaries.failures.length} canary check(s) failed, first "${first?.name}": ${first?.problems.join('; ')}`,
      );
    }
    const previous = revision();
    target!.swap(evaluator, bundle.data);
    examined = commit;
    serving = { commit, builtAt: bundle.manifest.built_at };
    await keep(true);
    log.info('policy bundle swapped', {
      revision: evaluator.revision,
      previous,
      commit,
      canaries: canaries.passed,
      branch: options.branch,
    });
    return { outcome: 'swapped', commit, revision: evaluator.revision };
  };

  const run = async (): Promise<PullOutcome> => {
    try {
      return await pullOnce();
    } catch (err) {
      // A fault of the machinery (disk full, git killed) is logged; the serving bundle stays.
      const message = redactUrls((err as Error).message?.trim() ?? String(err)).slice(0, 500);
      log.error('policy bundle pull failed', { reason: message, serving: revision() });
      return { outcome: 'unavailable', message, revision: revision() };
    } finally {
      pulls++;
    }
  };

  const pullNow = (): Promise<PullOutcome> => {
    if (target === null || stopped)
      return Promise.resolve({
        outcome: 'unavailable',
        message: stopped ? 'the policy source is stopped' : 'the policy source is not started',
        revision: revision(),
      });
    if (inflight === null) {
      inflight = run().finally(() => {
        inflight = null;
      });
      return inflight;
    }
    // A trigger during a pull may announce a commit that pull did not see: one more pull follows.
    queued ??= inflight.then(() => {
      queued = null;
      return pullNow();
    });
    return queued;
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void pullNow().finally(schedule);
    }, options.pollMs);
    timer.unref();
  };

  const stop = async (): Promise<void> => {
    stopped = true;
    clearTimeout(timer);
    await Promise.allSettled([inflight, queued]);
  };

  return {
    async start(next) {
      if (target !== null) throw new Error('the git bundle source is already started');
      target = next;
      const first = await pullNow();
      schedule();
      return first;
    },
    pullNow,
    get pulls() {
      return pulls;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** SECURITY: credentials in a URL (https://user:token@host) never reach a log line or an answer. */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

type GitSettings = NonNullable<PgwardConfigResolved['policy']['git']>;

export interface GitBundleSourceConfigDeps {
  readonly secret: (ref: SecretRef) => Buffer;
  /** Relative workdir paths resolve against it. */
  readonly configDir: string;
  /** Each cluster worker fetches into its own subdirectory. */
  readonly workerIndex: number;
  readonly maxMemoryPages: number;
  readonly log: Logger;
}

/** The source options from `policy.git` in the config. */
export function gitBundleSourceOptions(
  settings: GitSettings,
  deps: GitBundleSourceConfigDeps,
): GitBundleSourceOptions {
  let trustedKeys: ReadonlyMap<string, KeyObject> | undefined;
  if (settings.public_key !== undefined) {
    let key: KeyObject;
    try {
      key = createPublicKey(deps.secret(settings.public_key));
    } catch (err) {
      throw new PgwardError('PGW_CONFIG_INVALID', 'policy.git.public_key is not a PEM public key', {
        cause: err,
      });
    }
    if (key.asymmetricKeyType !== 'ed25519')
      throw new PgwardError('PGW_CONFIG_INVALID', 'policy.git.public_key must be an Ed25519 key');
    trustedKeys = new Map([[settings.public_key_id, key]]);
  }
  // A relative local path is relative to the config file, like every other path in it.
  const remote =
    /^[a-z][a-z0-9+.-]*:\/\//i.test(settings.url) || /^[^/]+@[^/:]+:/.test(settings.url)
      ? settings.url
      : path.resolve(deps.configDir, settings.url);
  return {
    url: remote,
    branch: settings.branch,
    pollMs: settings.poll_ms,
    timeoutMs: settings.timeout_ms,
    workdir: path.join(
      path.resolve(deps.configDir, settings.workdir),
      `worker-${deps.workerIndex}`,
    ),
    ...(trustedKeys !== undefined ? { trustedKeys } : {}),
    maxMemoryPages: deps.maxMemoryPages,
    log: deps.log,
  };
}
