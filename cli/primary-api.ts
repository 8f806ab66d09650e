// The HTTP API of a cluster primary: it owns the audit store and answers for the workers, which report
// their serving bundle and sessions over IPC (see serve.ts).

import type { ApiRoutes } from '../api/create-api.js';
import { policyHookRoutes } from '../api/routes/policy-hook.js';
import type { OpenedAudit } from '../audit/open-audit.js';
import type { Logger } from '../lib/log.js';
import { grantsExpiry } from '../policy/grants-expiry.js';
import type { PullOutcome } from '../policy/repo/git-bundle-source.js';
import { createIdentityFromConfig } from '../proxy/auth/chain.js';
import type { PgwardConfigResolved, SecretRef } from '../schemas/generated/config.js';
import { gatewayApiRoutes } from './api-routes.js';
import { createObservability } from './observability.js';

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
  const git = config.policy.git;
  return gatewayApiRoutes({
    config,
    configDir: options.configDir,
    log,
    now,
    identity,
    audit,
    observability,
    policyData: workers.data,
    gatewayPort: config.listen.port,
    policyHook:
      git === undefined || config.policy.disabled
        ? null
        : policyHookRoutes({
            secret: git.webhook_secret === undefined ? null : options.secret(git.webhook_secret),
            pull: workers.pull,
            log,
          }),
  });
}
