// The HTTP API of a cluster primary: it owns the audit store and answers for the workers, which report
// their serving bundle and sessions over IPC (see serve.ts).

import { requireGroup } from '../api/auth.js';
import type { ApiRoutes } from '../api/create-api.js';
import { auditRoutes } from '../api/routes/audit.js';
import { opsRoutes } from '../api/routes/audit-ops.js';
import { credentialsRoutes } from '../api/routes/credentials.js';
import { policyHookRoutes } from '../api/routes/policy-hook.js';
import type { OpenedAudit } from '../audit/open-audit.js';
import type { Logger } from '../lib/log.js';
import { activeGrants, grantsExpiry } from '../policy/grants-expiry.js';
import type { PullOutcome } from '../policy/repo/git-bundle-source.js';
import { createIdentityFromConfig } from '../proxy/auth/chain.js';
import type { PgwardConfigResolved, SecretRef } from '../schemas/generated/config.js';
import { wireApprovalsApi } from './approval-commands.js';
import { createObservability } from './observability.js';
import { PGWARD_VERSION } from './version.js';

export interface WorkerView {
  readonly revision: () => string | null;
  readonly sessions: () => number;
  readonly data: () => unknown;
  readonly pull: () => Promise<PullOutcome>;
}

export function primaryRoutes(
  options: {
    readonly config: PgwardConfigResolved;
    readonly secret: (ref: SecretRef) => Buffer;
    readonly configDir: string;
  },
  log: Logger,
  audit: OpenedAudit | null,
  workers: WorkerView,
): ApiRoutes[] {
  const { config } = options;
  const now = Date.now;
  const identity = createIdentityFromConfig({
    config,
    secret: options.secret,
    log,
    now,
    grantsExpiry: (sub, groups, database) =>
      grantsExpiry(workers.data(), sub, groups, database, now()),
  });
  const observability = createObservability({
    sessions: workers.sessions,
    revision: workers.revision,
    writer: audit?.writer ?? null,
    policyDisabled: config.policy.disabled,
  });
  const routes: ApiRoutes[] = [];
  const { bearer, minter } = identity;
  if (bearer !== null && minter !== null) {
    routes.push(
      credentialsRoutes({
        verifyBearer: bearer,
        mint: (caller, database) => minter.mint(caller, database),
        publicHost: config.identity.credentials?.public_host ?? config.listen.host,
        publicPort: config.identity.credentials?.public_port ?? config.listen.port,
        databases: config.upstreams.map((u) => u.name),
        log,
      }),
    );
  }
  const git = config.policy.git;
  if (git !== undefined && !config.policy.disabled) {
    routes.push(
      policyHookRoutes({
        secret: git.webhook_secret === undefined ? null : options.secret(git.webhook_secret),
        pull: workers.pull,
        log,
      }),
    );
  }
  if (bearer !== null) {
    const approvals = wireApprovalsApi(config, {
      configDir: options.configDir,
      log,
      guard: requireGroup({ verifyBearer: bearer, group: config.api.auditor_group, log }),
    });
    if (approvals !== null) routes.push(approvals);
    if (audit !== null) {
      routes.push(
        auditRoutes({
          store: audit.sink,
          verifyBearer: bearer,
          auditorGroup: config.api.auditor_group,
          activeGrants: () => activeGrants(workers.data(), now()),
          log,
          now,
        }),
      );
    }
  }
  routes.push(
    opsRoutes({
      health: () => observability.health(),
      metrics: () => observability.registry.text(),
      version: PGWARD_VERSION,
      auditApi: audit !== null && bearer !== null,
    }),
  );
  return routes;
}
