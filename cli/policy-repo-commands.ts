// `pgward policy init|check-grants|publish|prune` and `pgward request`: the policy repository's
// life cycle — scaffold it, request a grant as a pull request, check grants in CI, publish the
// bundle branch, prune expired grants. Thin argument parsing over policy/repo/.

import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ApiRoutes } from '../api/create-api.js';
import { policyHookRoutes } from '../api/routes/policy-hook.js';
import type { Logger } from '../lib/log.js';
import { formatProblems, PolicyError } from '../policy/errors.js';
import { checkGrants } from '../policy/repo/check-grants.js';
import { PolicyRepoError } from '../policy/repo/errors.js';
import { configuredEmail, gitAt } from '../policy/repo/git.js';
import {
  type BundleTarget,
  createGitBundleSource,
  type GitBundleSource,
  gitBundleSourceOptions,
} from '../policy/repo/git-bundle-source.js';
import { createGitHubHost, type FetchLike, type GitHost } from '../policy/repo/git-host.js';
import { initPolicyRepo } from '../policy/repo/init.js';
import { prunePolicyRepo } from '../policy/repo/prune.js';
import { publishBundle } from '../policy/repo/publish.js';
import { requestGrant } from '../policy/repo/request.js';
import type { PgwardConfigResolved, SecretRef } from '../schemas/generated/config.js';
import { PACKAGE_ROOT, resolveOpa } from './policy-commands.js';
import { PGWARD_VERSION } from './version.js';

/** `pgward policy <sub>` commands this module runs; the rest are cli/policy-commands.ts's. */
export const POLICY_REPO_SUBCOMMANDS: ReadonlySet<string> = new Set([
  'init',
  'check-grants',
  'publish',
  'prune',
]);

export const POLICY_REPO_USAGE = `  policy init <dir>         scaffold a policy repository (template, CI workflows) and git init it
  policy check-grants --source <dir>
                            grant lifetime and naming rules, and a dry run of every live grant
  policy publish --bundle <dir> [--branch pgward-bundle] [--remote origin]
                            push a built bundle as one commit to the bundle branch
  policy prune --source <dir> [--branch prune/expired] [--push] [--open-pr]
                            remove expired grants and approvals on a branch (and open its PR)
  request --repo <url|path> --subject <sub|group:name> --database <db>
          --table <schema.table:action[,action]>... --ttl <2h> --reason <text> [--requester <who>]
                            ask for a time-boxed grant: branch grant/<id>, pushed, PR when configured
`;

/** Where the commands write, their clock and their HTTP client (tests replace them). */
export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly now: () => Date;
  readonly fetch?: FetchLike;
}

const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  now: () => new Date(),
};

/** Runs `pgward policy <init|check-grants|publish|prune> …` (args start with the subcommand). */
export async function policyRepoCommand(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CommandIo = processIo,
): Promise<number> {
  const [sub, ...rest] = args;
  return guarded(`policy ${sub}`, io, async () => {
    switch (sub) {
      case 'init':
        return init(rest, io);
      case 'check-grants':
        return checkGrantsCommand(rest, env, io);
      case 'publish':
        return publish(rest, io);
      case 'prune':
        return prune(rest, env, io);
      default:
        io.stderr(`pgward policy: unknown command "${sub}"\n${POLICY_REPO_USAGE}`);
        return 2;
    }
  });
}

/** Runs `pgward request …`. */
export async function requestCommand(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CommandIo = processIo,
): Promise<number> {
  return guarded('request', io, async () => {
    const { values } = parseArgs({
      args: [...args],
      options: {
        repo: { type: 'string' },
        subject: { type: 'string' },
        database: { type: 'string' },
        table: { type: 'string', multiple: true },
        ttl: { type: 'string' },
        reason: { type: 'string' },
        requester: { type: 'string' },
        ticket: { type: 'string' },
        base: { type: 'string' },
        'github-repo': { type: 'string' },
      },
    });
    const missing = (['repo', 'subject', 'database', 'ttl', 'reason'] as const).filter(
      (k) => values[k] === undefined,
    );
    if (missing.length > 0 || values.table === undefined) {
      io.stderr(
        `pgward request: ${[...missing, ...(values.table === undefined ? ['table'] : [])].map((k) => `--${k}`).join(', ')} required\n${POLICY_REPO_USAGE}`,
      );
      return 2;
    }
    const requester =
      values.requester ?? (await configuredEmail(gitAt(process.cwd()))) ?? env.USER ?? '';
    const gitHost = gitHostFrom(env, values['github-repo'], io);
    const result = await requestGrant({
      repo: values.repo!,
      subject: values.subject!,
      database: values.database!,
      tables: values.table,
      ttl: values.ttl!,
      reason: values.reason!,
      requester,
      ...(values.ticket !== undefined ? { ticket: values.ticket } : {}),
      ...(values.base !== undefined ? { base: values.base } : {}),
      now: io.now(),
      gitHost,
    });
    io.stdout(
      `requested grant ${result.id} (${result.grant.not_before} to ${result.grant.expires_at})\n` +
        `pushed branch ${result.branch} (${result.commit.slice(0, 12)}) for review into ${result.base}\n`,
    );
    const pr = result.pullRequest;
    if (pr === null)
      io.stdout('no GitHub token and repository configured: open the pull request yourself\n');
    else if (pr.outcome === 'opened') io.stdout(`opened pull request #${pr.number}: ${pr.url}\n`);
    else io.stdout('a pull request for this branch is already open\n');
    return 0;
  });
}

async function init(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { branch: { type: 'string', default: 'main' } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) {
    io.stderr('usage: pgward policy init <dir> [--branch main]\n');
    return 2;
  }
  const result = await initPolicyRepo({
    dir: positionals[0]!,
    templateDir: path.join(PACKAGE_ROOT, 'policy', 'template'),
    repoTemplateDir: path.join(PACKAGE_ROOT, 'policy', 'repo-template'),
    pgwardVersion: PGWARD_VERSION,
    branch: values.branch,
  });
  io.stdout(
    `initialized policy repository ${result.dir} (${result.files.length} files, branch ${values.branch})\n` +
      'next: commit, add the remote, push, and protect the main branch (see README.md)\n',
  );
  return 0;
}

async function checkGrantsCommand(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CommandIo,
): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      source: { type: 'string', default: '.' },
      opa: { type: 'string' },
      now: { type: 'string' },
    },
  });
  const now = clock(values.now, io);
  const result = await checkGrants(path.resolve(values.source), {
    opaPath: resolveOpa(values.opa, env),
    now,
  });
  io.stdout(`grants: ${result.grants} checked, ${result.dryRun.length} dry-run statements\n`);
  for (const c of result.dryRun)
    io.stdout(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.grant}: ${c.case} -> ${c.outcome}\n`);
  if (result.warnings.length > 0)
    io.stdout(`warnings:\n${indent(formatProblems(result.warnings))}\n`);
  if (result.problems.length > 0)
    io.stdout(`problems:\n${indent(formatProblems(result.problems))}\n`);
  io.stdout(result.ok ? 'check-grants: ok\n' : 'check-grants: FAILED\n');
  return result.ok ? 0 : 1;
}

async function publish(args: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      bundle: { type: 'string', default: 'bundle' },
      branch: { type: 'string', default: 'pgward-bundle' },
      remote: { type: 'string', default: 'origin' },
      repo: { type: 'string', default: '.' },
    },
  });
  const result = await publishBundle({
    repoDir: path.resolve(values.repo),
    bundleDir: path.resolve(values.bundle),
    branch: values.branch,
    remote: values.remote,
  });
  io.stdout(
    `published bundle ${result.revision} as ${result.commit} on ${values.remote}/${result.branch}\n`,
  );
  return 0;
}

async function prune(args: readonly string[], env: NodeJS.ProcessEnv, io: CommandIo) {
  const { values } = parseArgs({
    args: [...args],
    options: {
      source: { type: 'string', default: '.' },
      branch: { type: 'string', default: 'prune/expired' },
      remote: { type: 'string', default: 'origin' },
      push: { type: 'boolean', default: false },
      'open-pr': { type: 'boolean', default: false },
      'github-repo': { type: 'string' },
      now: { type: 'string' },
    },
  });
  let gitHost: GitHost | null = null;
  if (values['open-pr']) {
    gitHost = gitHostFrom(env, values['github-repo'], io);
    if (gitHost === null || !values.push) {
      io.stderr(
        'pgward policy prune: --open-pr needs --push, GITHUB_TOKEN and --github-repo (or GITHUB_REPOSITORY)\n',
      );
      return 2;
    }
  }
  const result = await prunePolicyRepo({
    repoDir: path.resolve(values.source),
    now: clock(values.now, io),
    branch: values.branch,
    remote: values.remote,
    push: values.push,
    gitHost,
  });
  if (result.removed.length === 0) {
    io.stdout('nothing to prune: no grant or approval has expired\n');
    return 0;
  }
  io.stdout(`pruned ${result.removed.length} expired file(s) on ${values.branch}:\n`);
  for (const e of result.removed) io.stdout(`  ${e.file} (expired ${e.expiresAt})\n`);
  if (result.pushed) io.stdout(`pushed ${values.branch} to ${values.remote}\n`);
  const pr = result.pullRequest;
  if (pr?.outcome === 'opened') io.stdout(`opened pull request #${pr.number}: ${pr.url}\n`);
  else if (pr?.outcome === 'exists') io.stdout('its pull request is already open (updated)\n');
  return 0;
}

/** What `pgward serve` wires when `policy.git` is configured (one per worker). */
export interface GitPolicyWiring {
  readonly source: GitBundleSource;
  /** GatewayDeps.policyLoader: the first pull, then polling. */
  readonly policyLoader: (target: BundleTarget) => Promise<void>;
  /** POST /v1/hooks/policy for createApi's routes. */
  readonly hookRoutes: ApiRoutes;
}

/** The git bundle source and its webhook route from the config; null without `policy.git`. */
export function wireGitPolicy(
  config: PgwardConfigResolved,
  deps: {
    readonly secret: (ref: SecretRef) => Buffer;
    readonly configDir: string;
    readonly workerIndex: number;
    readonly log: Logger;
  },
): GitPolicyWiring | null {
  const git = config.policy.git;
  if (git === undefined || config.policy.disabled) return null;
  const log = deps.log.child({ component: 'policy-git' });
  const source = createGitBundleSource(
    gitBundleSourceOptions(git, {
      secret: deps.secret,
      configDir: deps.configDir,
      workerIndex: deps.workerIndex,
      maxMemoryPages: config.policy.max_memory_pages,
      log,
    }),
  );
  return {
    source,
    policyLoader: async (target) => {
      await source.start(target);
    },
    hookRoutes: policyHookRoutes({
      secret: git.webhook_secret === undefined ? null : deps.secret(git.webhook_secret),
      pull: () => source.pullNow(),
      log,
    }),
  };
}

/** The GitHub adapter when a token (GITHUB_TOKEN or GH_TOKEN) and a repository are configured. */
export function gitHostFrom(
  env: NodeJS.ProcessEnv,
  repoFlag: string | undefined,
  io: Pick<CommandIo, 'fetch'> = {},
): GitHost | null {
  const token = env.GITHUB_TOKEN ?? env.GH_TOKEN;
  const repo = repoFlag ?? env.PGWARD_GITHUB_REPO ?? env.GITHUB_REPOSITORY;
  if (token === undefined || token === '' || repo === undefined || repo === '') return null;
  return createGitHubHost({
    token,
    repo,
    ...(env.GITHUB_API_URL !== undefined ? { apiUrl: env.GITHUB_API_URL } : {}),
    ...(io.fetch !== undefined ? { fetch: io.fetch } : {}),
    userAgent: `pgward/${PGWARD_VERSION}`,
  });
}

function clock(flag: string | undefined, io: CommandIo): Date {
  if (flag === undefined) return io.now();
  const at = new Date(flag);
  if (Number.isNaN(at.getTime()))
    throw new PolicyRepoError('PGW_REPO_REQUEST_INVALID', `--now "${flag}" is not a timestamp`);
  return at;
}

export function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/** Expected faults (bad arguments, git, the git host, invalid files) become one line and exit 1. */
export async function guarded(
  what: string,
  io: CommandIo,
  run: () => Promise<number>,
): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof PolicyRepoError || err instanceof PolicyError) {
      io.stderr(`pgward ${what}: ${err.message} (${err.code})\n`);
      return 1;
    }
    if (
      err instanceof TypeError &&
      (err as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS')
    ) {
      io.stderr(`pgward ${what}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
