// The HTTP API's routes for one gateway (single process or cluster primary): credentials, the policy
// webhook, approvals and the audit API when an OpenID provider authenticates auditors, health and metrics.

import { requireGroup } from '../api/auth.js';
import type { ApiRoutes } from '../api/create-api.js';
import { auditRoutes } from '../api/routes/audit.js';
import { opsRoutes } from '../api/routes/audit-ops.js';
import { credentialsRoutes } from '../api/routes/credentials.js';
import type { OpenedAudit } from '../audit/open-audit.js';
import type { Logger } from '../lib/log.js';
import { activeGrants } from '../policy/grants-expiry.js';
import type { IdentityServices } from '../proxy/auth/chain.js';
import type { PgwardConfigResolved } from '../schemas/generated/config.js';
import { wireApprovalsApi } from './approval-commands.js';
import type { Observability } from './observability.js';
import { PGWARD_VERSION } from './version.js';

export interface ApiRouteDeps {
  readonly config: PgwardConfigResolved;
  readonly configDir: string;
  readonly log: Logger;
  readonly now: () => number;
  readonly identity: IdentityServices;
  readonly audit: OpenedAudit | null;
  readonly observability: Observability;
  /** The serving bundle's data document (active grants). */
  readonly policyData: () => unknown;
  /** Port written into minted connection strings when the config names none. */
  readonly gatewayPort: number;
  /** POST /v1/hooks/policy, when policy comes from git. */
  readonly policyHook: ApiRoutes | null;
}

export function gatewayApiRoutes(deps: ApiRouteDeps): ApiRoutes[] {
  const { config, log, now, audit } = deps;
  const { bearer, minter } = deps.identity;
  const routes: ApiRoutes[] = [];
  if (bearer !== null && minter !== null) {
    routes.push(
      credentialsRoutes({
        verifyBearer: bearer,
        mint: (caller, database) => minter.mint(caller, database),
        publicHost: config.identity.credentials?.public_host ?? config.listen.host,
        publicPort: config.identity.credentials?.public_port ?? deps.gatewayPort,
        databases: config.upstreams.map((u) => u.name),
        log,
      }),
    );
  }
  if (deps.policyHook !== null) routes.push(deps.policyHook);
  if (bearer !== null) {
    const approvals = wireApprovalsApi(config, {
      configDir: deps.configDir,
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
          activeGrants: () => activeGrants(deps.policyData(), now()),
          log,
          now,
        }),
      );
    }
  }
  routes.push(
    opsRoutes({
      health: () => deps.observability.health(),
      metrics: () => deps.observability.registry.text(),
      version: PGWARD_VERSION,
      auditApi: audit !== null && bearer !== null,
    }),
  );
  return routes;
}
