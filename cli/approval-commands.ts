// `pgward approvals list|approve` and `pgward policy check-approval`, and the wiring of human approval
// for `pgward serve` (the gateway's approval desk) and the API (GET /v1/approvals). Thin argument
// parsing over policy/repo/approvals.ts; the desk lives in proxy/decider/approval-desk.ts.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { MiddlewareHandler } from 'hono';
import type { ApiRoutes } from '../api/create-api.js';
import { approvalsRoutes, toApprovalsBody } from '../api/routes/approvals.js';
import type { Logger } from '../lib/log.js';
import { formatProblems } from '../policy/errors.js';
import { DEFAULT_BRANCH_PREFIX } from '../policy/repo/approval-request.js';
import {
  type ApprovalListing,
  approveRequest,
  checkApproval,
  listApprovals,
} from '../policy/repo/approvals.js';
import { configuredEmail, gitAt } from '../policy/repo/git.js';
import { createGitHubHost, type GitHost } from '../policy/repo/git-host.js';
import {
  type ApprovalDesk,
  type ApprovalDeskOptions,
  createApprovalDesk,
} from '../proxy/decider/approval-desk.js';
import { type ApprovalLedger, openApprovalLedger } from '../proxy/decider/approval-uses.js';
import { secretText } from '../proxy/gateway.js';
import type { PgwardConfigResolved, SecretRef } from '../schemas/generated/config.js';
import { type CommandIo, gitHostFrom, guarded, indent } from './policy-repo-commands.js';

export const APPROVALS_USAGE = `  approvals list --repo <url|path> [--base <branch>] [--json]
                            pending approval requests (approval/* branches) and granted approvals
  approvals approve <id> --repo <url|path> [--as <reviewer>] [--base <branch>] [--keep-branch]
                            approve a request as a reviewer: merge approval/<id> into the base
  policy check-approval --file <approvals/id.json> --approver <login>
          [--requester <who>] [--requester-from-file]
                            an approval file's schema and digest, and that the approver is not the requester
`;

const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  now: () => new Date(),
};

/** Runs `pgward approvals <list|approve> …` (args start with the subcommand). */
export async function approvalsCommand(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CommandIo = processIo,
): Promise<number> {
  const [sub, ...rest] = args;
  return guarded(`approvals ${sub ?? ''}`.trim(), io, async () => {
    switch (sub) {
      case 'list':
        return list(rest, io);
      case 'approve':
        return approve(rest, env, io);
      default:
        io.stderr(`pgward approvals: unknown command "${sub ?? ''}"\n${APPROVALS_USAGE}`);
        return 2;
    }
  });
}

/** Runs `pgward policy check-approval …` (args after `check-approval`); exit 1 when it fails. */
export async function checkApprovalCommand(
  args: readonly string[],
  io: CommandIo = processIo,
): Promise<number> {
  return guarded('policy check-approval', io, async () => {
    const { values } = parseArgs({
      args: [...args],
      options: {
        file: { type: 'string' },
        approver: { type: 'string' },
        requester: { type: 'string' },
        'requester-from-file': { type: 'boolean', default: false },
      },
    });
    if (values.file === undefined || values.approver === undefined) {
      io.stderr(
        `pgward policy check-approval: --file and --approver are required\n${APPROVALS_USAGE}`,
      );
      return 2;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(values.file, 'utf8')) as unknown;
    } catch (err) {
      io.stdout(
        `problems:\n  ${values.file}: cannot be read as JSON (${(err as Error).message})\n`,
      );
      io.stdout('check-approval: FAILED\n');
      return 1;
    }
    const check = checkApproval(doc, {
      approver: values.approver,
      ...(values.requester !== undefined ? { requester: values.requester } : {}),
      requesterFromFile: values['requester-from-file'],
      file: values.file,
    });
    if (!check.ok) {
      io.stdout(`problems:\n${indent(formatProblems(check.problems))}\n`);
      io.stdout('check-approval: FAILED\n');
      return 1;
    }
    const a = check.approval!;
    io.stdout(
      `${a.id}: ${a.identity.sub} in ${a.database}, ${a.not_before} to ${a.expires_at}, approved by ${values.approver}\n` +
        'check-approval: ok\n',
    );
    return 0;
  });
}

async function list(args: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      repo: { type: 'string' },
      base: { type: 'string' },
      'branch-prefix': { type: 'string', default: DEFAULT_BRANCH_PREFIX },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.repo === undefined) {
    io.stderr(`pgward approvals list: --repo is required\n${APPROVALS_USAGE}`);
    return 2;
  }
  const listing = await listApprovals({
    repo: values.repo,
    branchPrefix: values['branch-prefix'],
    now: io.now(),
    ...(values.base !== undefined ? { base: values.base } : {}),
  });
  if (values.json) io.stdout(`${JSON.stringify(toApprovalsBody(listing), null, 2)}\n`);
  else io.stdout(formatListing(listing));
  return 0;
}

async function approve(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CommandIo,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      repo: { type: 'string' },
      as: { type: 'string' },
      base: { type: 'string' },
      'branch-prefix': { type: 'string', default: DEFAULT_BRANCH_PREFIX },
      'keep-branch': { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (values.repo === undefined || positionals.length !== 1) {
    io.stderr(`pgward approvals approve: <id> and --repo are required\n${APPROVALS_USAGE}`);
    return 2;
  }
  const reviewer = values.as ?? (await configuredEmail(gitAt(process.cwd()))) ?? env.USER ?? '';
  if (reviewer.trim() === '') {
    io.stderr('pgward approvals approve: name the reviewer with --as (no git identity found)\n');
    return 2;
  }
  const result = await approveRequest({
    repo: values.repo,
    id: positionals[0]!,
    reviewer,
    branchPrefix: values['branch-prefix'],
    now: io.now(),
    deleteBranch: !values['keep-branch'],
    ...(values.base !== undefined ? { base: values.base } : {}),
  });
  const a = result.approval;
  io.stdout(
    `approved ${result.id} as ${reviewer}: merged ${result.branch} into ${result.base} (${result.commit.slice(0, 12)})\n` +
      `${a.identity.sub} may run it in ${a.database} from ${a.not_before} to ${a.expires_at}, once the rebuilt bundle is served\n`,
  );
  return 0;
}

function formatListing(listing: ApprovalListing): string {
  const lines = [`pending (${listing.pending.length}):`];
  for (const p of listing.pending) {
    const a = p.approval;
    lines.push(
      a === null
        ? `  ${p.id}  ${p.branch}  INVALID: ${p.problems.map((x) => x.message).join('; ')}`
        : `  ${p.id}  ${a.identity.sub}  ${a.database}  until ${a.expires_at}  ${p.branch}  ${oneLine(a.sql)}`,
    );
  }
  lines.push(`granted on ${listing.base} (${listing.granted.length}):`);
  for (const g of listing.granted) {
    const a = g.approval;
    lines.push(
      `  ${g.id}  ${g.state}  ${a.identity.sub}  ${a.database}  ${a.not_before} to ${a.expires_at}  ${oneLine(a.sql)}`,
    );
  }
  if (listing.invalid.length > 0)
    lines.push(`invalid on ${listing.base}:`, indent(formatProblems(listing.invalid)));
  return `${lines.join('\n')}\n`;
}

type ApprovalSettings = NonNullable<PgwardConfigResolved['approvals']>;

export interface ApprovalWiringDeps {
  readonly secret: (ref: SecretRef) => Buffer;
  /** Relative repository paths resolve against it. */
  readonly configDir: string;
  readonly log: Logger;
  /** For the GitHub token of `pgward request` when the config names none. */
  readonly env: NodeJS.ProcessEnv;
  /** The gateway's clock (epoch milliseconds). */
  readonly now?: () => number;
  /** Tests shorten the retry schedule of filing. */
  readonly retry?: ApprovalDeskOptions['retry'];
  readonly onEvent?: ApprovalDeskOptions['onEvent'];
  /** Where approval runs are counted (a cluster worker asks the primary); default this process. */
  readonly uses?: ApprovalDeskOptions['uses'];
}

/** The repository URL of the config: a relative local path is relative to the config file. */
export function approvalsRepo(settings: ApprovalSettings, configDir: string): string {
  const url = settings.repo;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/]+@[^/:]+:/.test(url)
    ? url
    : path.resolve(configDir, url);
}

/** The gateway's approval desk from `approvals` in the config (GatewayDeps.approvals); null without it. */
export function wireApprovalDesk(
  config: PgwardConfigResolved,
  deps: ApprovalWiringDeps,
): ApprovalDesk | null {
  const settings = config.approvals;
  if (settings === undefined || config.policy.disabled) return null;
  const gh = settings.github;
  const gitHost: GitHost | null =
    gh !== undefined
      ? createGitHubHost({
          token: secretText(deps.secret(gh.token)),
          repo: gh.repo,
          apiUrl: gh.api_url,
          userAgent: 'pgward-gateway',
        })
      : gitHostFrom(deps.env, undefined);
  return createApprovalDesk({
    repo: approvalsRepo(settings, deps.configDir),
    ...(settings.base !== undefined ? { base: settings.base } : {}),
    branchPrefix: settings.branch_prefix,
    windowMs: settings.window_minutes * 60_000,
    waitMs: settings.wait_ms,
    maxUses: settings.max_uses ?? null,
    timeoutMs: settings.timeout_ms,
    gitHost,
    now: deps.now ?? Date.now,
    log: deps.log.child({ component: 'approvals' }),
    ...(deps.retry !== undefined ? { retry: deps.retry } : {}),
    ...(deps.onEvent !== undefined ? { onEvent: deps.onEvent } : {}),
    ...(deps.uses !== undefined ? { uses: deps.uses } : {}),
  });
}

/**
 * The ledger counting runs against approvals.max_uses, from its file (approvals.uses_path); null when
 * nothing is counted (no approvals, no max_uses, or policy disabled). Never throws: an unusable file
 * gives a ledger that refuses every approved statement (openApprovalLedger).
 */
export async function openApprovalUses(
  config: PgwardConfigResolved,
  deps: { readonly configDir: string; readonly log: Logger; readonly now?: () => number },
): Promise<ApprovalLedger | null> {
  const settings = config.approvals;
  if (settings?.max_uses === undefined || config.policy.disabled) return null;
  return openApprovalLedger({
    file: path.resolve(deps.configDir, settings.uses_path),
    log: deps.log.child({ component: 'approvals' }),
    ...(deps.now !== undefined ? { now: deps.now } : {}),
  });
}

/** GET /v1/approvals for createApi's routes, from `approvals` in the config; null without it. */
export function wireApprovalsApi(
  config: PgwardConfigResolved,
  deps: {
    readonly configDir: string;
    readonly log: Logger;
    /** The auditor guard (api/auth.ts requireGroup). */
    readonly guard?: MiddlewareHandler;
  },
): ApiRoutes | null {
  const settings = config.approvals;
  if (settings === undefined) return null;
  const repo = approvalsRepo(settings, deps.configDir);
  return approvalsRoutes({
    list: () =>
      listApprovals({
        repo,
        branchPrefix: settings.branch_prefix,
        now: new Date(),
        timeoutMs: settings.timeout_ms,
        ...(settings.base !== undefined ? { base: settings.base } : {}),
      }),
    log: deps.log,
    ...(deps.guard !== undefined ? { guard: deps.guard } : {}),
  });
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 100 ? `${flat.slice(0, 99)}…` : flat;
}
