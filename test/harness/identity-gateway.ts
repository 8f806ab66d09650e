// An in-process gateway whose authenticator is the configured identity chain (OIDC, introspection,
// pgward credentials, static passwords), with a capturing logger so tests can read refusal reasons.

import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { loadConfig } from '../../cli/config.js';
import { createLogger } from '../../lib/log.js';
import { createIdentityFromConfig, type IdentityServices } from '../../proxy/auth/chain.js';
import type { GrantsExpiry } from '../../proxy/auth/credentials.js';
import { createGateway, type Gateway } from '../../proxy/gateway.js';
import { gatewayConfigDoc, gatewayEnv } from './gateway.js';
import type { PgInfo } from './postgres.js';

export interface IdentityGatewayOptions {
  /** The config's `identity` section. */
  readonly identity: Record<string, unknown>;
  /** Other top-level config merged in (tls, listen, ...). */
  readonly config?: Record<string, unknown>;
  readonly env?: Record<string, string>;
  readonly now?: () => number;
  readonly grantsExpiry?: GrantsExpiry;
}

export interface IdentityGateway extends AsyncDisposable {
  readonly gateway: Gateway;
  readonly services: IdentityServices;
  readonly port: number;
  /** Every log record the gateway wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  /** The reasons of every `authentication failed` record so far. */
  authFailures(): string[];
  /** A node-postgres client presenting `secret` as the password. */
  client(secret: string, user?: string): pg.Client;
}

export async function startIdentityGateway(
  pgInfo: PgInfo,
  options: IdentityGatewayOptions,
): Promise<IdentityGateway> {
  const overrides = {
    config: { ...options.config, identity: options.identity },
    env: { ...options.env },
  };
  const doc = gatewayConfigDoc(pgInfo, overrides);
  const loaded = loadConfig(JSON.stringify(doc), gatewayEnv(pgInfo, overrides), process.cwd());
  if (!loaded.ok) throw new Error(`test config invalid: ${JSON.stringify(loaded.problems)}`);
  const logs: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'debug',
    write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
  });
  const services = createIdentityFromConfig({
    config: loaded.config,
    secret: loaded.secret,
    log,
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(options.grantsExpiry !== undefined ? { grantsExpiry: options.grantsExpiry } : {}),
  });
  const gateway = createGateway({
    config: loaded.config,
    secret: loaded.secret,
    log,
    authenticator: services.authenticator,
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
  const address: AddressInfo = await gateway.listen();
  return {
    gateway,
    services,
    port: address.port,
    logs,
    authFailures: () =>
      logs.filter((r) => r.msg === 'authentication failed').map((r) => String(r.reason)),
    client: (secret, user = 'token-user') =>
      new pg.Client({
        host: '127.0.0.1',
        port: address.port,
        user,
        password: secret,
        database: 'app',
      }),
    [Symbol.asyncDispose]: () => gateway.shutdown(0),
  };
}
