// The composition root of one gateway process: audit store and writer, identity, policy delivery,
// the gateway and the HTTP API, wired from the config. `pgward serve` and `pgward demo` both use it.

import type { AddressInfo } from 'node:net';
import type { ApiRoutes } from '../api/create-api.js';
import { createApi } from '../api/create-api.js';
import { type ServedApi, serveApi } from '../api/serve-api.js';
import { type OpenedAudit, openAudit } from '../audit/open-audit.js';
import type { Logger } from '../lib/log.js';
import { grantsExpiry } from '../policy/grants-expiry.js';
import { type AuditObserver, createAuditObserver } from '../proxy/audit-observer.js';
import { createIdentityFromConfig, type IdentityServices } from '../proxy/auth/chain.js';
import type { ApprovalUses } from '../proxy/decider/approval-uses.js';
import { createGateway, type Gateway, type GatewayDeps } from '../proxy/gateway.js';
import type { PgwardConfigResolved, SecretRef } from '../schemas/generated/config.js';
import { gatewayApiRoutes } from './api-routes.js';
import { openApprovalUses, wireApprovalDesk } from './approval-commands.js';
import { createObservability } from './observability.js';
import { type GitPolicyWiring, wireGitPolicy } from './policy-repo-commands.js';

export interface ComposeOptions {
  readonly config: PgwardConfigResolved;
  readonly secret: (ref: SecretRef) => Buffer;
  readonly configDir: string;
  readonly log: Logger;
  readonly workerIndex?: number;
  readonly now?: () => number;
  /** Writes audit entries somewhere else (a cluster worker forwards them to the primary). */
  readonly auditWriter?: { write(entry: unknown): void; accepting(): boolean };
  /** Serve the HTTP API from this process (default: config.api.enabled). */
  readonly api?: boolean;
  /** Routes the caller adds (approvals, audit, health). */
  readonly routes?: (parts: ComposedParts) => readonly ApiRoutes[];
  readonly forwardCancel?: GatewayDeps['forwardCancel'];
  /** Where approval runs are counted against max_uses (a cluster worker asks the primary). */
  readonly approvalUses?: ApprovalUses;
  /** The environment, for settings the config may leave to it (the GitHub token of approvals). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface ComposedParts {
  readonly gateway: Gateway;
  readonly identity: IdentityServices;
  readonly audit: OpenedAudit | null;
  readonly observer: AuditObserver;
  readonly git: GitPolicyWiring | null;
}

export interface Composed extends AsyncDisposable, ComposedParts {
  readonly address: AddressInfo;
  readonly api: ServedApi | null;
  /** Graceful stop: the gateway drains first, then the API, the git poller and the audit writer. */
  close(): Promise<void>;
}

/** With audit disabled, records go nowhere and nothing is refused for it. */
const DISCARD = { write: () => {}, accepting: () => true };
const NO_AUDIT_OBSERVER = {
  sessionOpened: () => {},
  sessionClosed: () => {},
  statementDone: () => {},
} as const;

export async function compose(options: ComposeOptions): Promise<Composed> {
  const { config, log } = options;
  const now = options.now ?? Date.now;
  const audit =
    options.auditWriter === undefined && config.audit.enabled
      ? await openAudit({
          config: config.audit,
          configDir: options.configDir,
          secret: options.secret,
          log,
          ...(options.workerIndex !== undefined ? { workerIndex: options.workerIndex } : {}),
        })
      : null;
  if (!config.audit.enabled) log.warn('audit disabled: no statement or session is recorded');
  const writer = (options.auditWriter ?? audit?.writer ?? DISCARD) as Parameters<
    typeof createAuditObserver
  >[0]['writer'];
  const observer = createAuditObserver({ writer, statementText: config.audit.statement_text, log });
  let gateway: Gateway | null = null;
  const observability = createObservability({
    sessions: () => gateway?.sessionCount ?? 0,
    revision: () => gateway?.policySource.revision ?? null,
    writer: audit?.writer ?? null,
    policyDisabled: config.policy.disabled,
  });
  const git = wireGitPolicy(config, {
    secret: options.secret,
    configDir: options.configDir,
    workerIndex: options.workerIndex ?? 0,
    log,
  });
  const identity = createIdentityFromConfig({
    config,
    secret: options.secret,
    log,
    now,
    grantsExpiry: (sub, groups, database) =>
      grantsExpiry(gateway?.policySource.data ?? null, sub, groups, database, now()),
  });
  // Runs against max_uses are counted here unless another process counts them (cluster workers).
  const ledger =
    options.approvalUses === undefined
      ? await openApprovalUses(config, { configDir: options.configDir, log, now })
      : null;
  const uses = options.approvalUses ?? ledger ?? undefined;
  const approvals = wireApprovalDesk(config, {
    secret: options.secret,
    configDir: options.configDir,
    log,
    env: options.env ?? {},
    now,
    ...(uses !== undefined ? { uses } : {}),
  });
  gateway = createGateway({
    ...(approvals !== null ? { approvals } : {}),
    config,
    secret: options.secret,
    configDir: options.configDir,
    log,
    now,
    authenticator: identity.authenticator,
    // With audit off nothing is mapped or sealed per statement: only the metrics see the records.
    observer: observability.observe(
      audit === null && options.auditWriter === undefined ? NO_AUDIT_OBSERVER : observer,
    ),
    admit: () => observer.accepting(),
    ...(options.workerIndex !== undefined ? { workerIndex: options.workerIndex } : {}),
    ...(options.forwardCancel !== undefined ? { forwardCancel: options.forwardCancel } : {}),
    ...(git !== null ? { policyLoader: git.policyLoader } : {}),
  });
  let address: AddressInfo;
  try {
    address = await gateway.listen();
  } catch (err) {
    await ledger?.close();
    await audit?.close();
    throw err;
  }
  const parts: ComposedParts = { gateway, identity, audit, observer, git };
  let api: ServedApi | null = null;
  if (options.api ?? config.api.enabled) {
    const routes: ApiRoutes[] = [];
    routes.push(
      ...gatewayApiRoutes({
        config,
        configDir: options.configDir,
        log,
        now,
        identity,
        audit,
        observability,
        policyData: () => gateway.policySource.data,
        gatewayPort: address.port,
        policyHook: git?.hookRoutes ?? null,
      }),
    );
    routes.push(...(options.routes?.(parts) ?? []));
    api = await serveApi(createApi({ log, routes }), config.api.host, config.api.port);
    log.info('api listening', { url: api.url });
  }
  const close = async () => {
    await gateway.shutdown();
    await api?.close();
    await git?.source.stop();
    approvals?.close();
    await approvals?.idle();
    await ledger?.close();
    await audit?.close();
  };
  return { ...parts, address, api, close, [Symbol.asyncDispose]: close };
}
