// Starts an in-process gateway on port 0 in front of the test cluster, with static test identities.

import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../cli/config.js';
import { createLogger, type Logger, silentLogger } from '../../lib/log.js';
import { createGateway, type Gateway, type GatewayObserver } from '../../proxy/gateway.js';
import type { PgInfo } from './postgres.js';

export const TEST_USERS = {
  agent: { name: 'svc-agent', password: 'agent-secret-1', groups: ['analytics'] },
  ops: { name: 'svc-ops', password: 'ops-secret-2', groups: ['ops'] },
} as const;

export interface TestGateway extends AsyncDisposable {
  readonly gateway: Gateway;
  readonly port: number;
  readonly host: string;
  /** postgres:// URL for a test identity through the gateway. */
  url(user?: keyof typeof TEST_USERS, database?: string, extra?: string): string;
}

export interface GatewayOverrides {
  /** Merged over the generated config document before validation. */
  readonly config?: Record<string, unknown>;
  readonly env?: Record<string, string>;
  readonly upstreamUser?: 'scram' | 'md5';
  readonly log?: Logger | 'stderr';
  readonly observer?: GatewayObserver;
  readonly now?: () => number;
  readonly admit?: () => boolean;
}

export function gatewayConfigDoc(
  pg: PgInfo,
  overrides: GatewayOverrides = {},
): Record<string, unknown> {
  const md5 = overrides.upstreamUser === 'md5';
  return {
    listen: { host: '127.0.0.1', port: 0 },
    auth: {
      allow_cleartext_on_loopback: true,
      users: Object.values(TEST_USERS).map((u) => ({
        name: u.name,
        password: { env: `TEST_PW_${u.name.replaceAll('-', '_').toUpperCase()}` },
        groups: [...u.groups],
      })),
    },
    upstreams: [
      {
        name: 'app',
        host: pg.host,
        port: pg.port,
        database: pg.database,
        user: md5 ? pg.md5User : pg.scramUser,
        password: { env: 'TEST_UPSTREAM_PASSWORD' },
        tls: { mode: 'verify-full', ca: { file: pg.caFile }, servername: 'localhost' },
      },
    ],
    policy: { disabled: true },
    api: { enabled: false },
    workers: 1,
    ...overrides.config,
  };
}

export function gatewayEnv(pg: PgInfo, overrides: GatewayOverrides = {}): Record<string, string> {
  const env: Record<string, string> = {
    TEST_UPSTREAM_PASSWORD: overrides.upstreamUser === 'md5' ? pg.md5Password : pg.scramPassword,
    ...overrides.env,
  };
  for (const u of Object.values(TEST_USERS)) {
    env[`TEST_PW_${u.name.replaceAll('-', '_').toUpperCase()}`] = u.password;
  }
  return env;
}

export async function startGateway(
  pg: PgInfo,
  overrides: GatewayOverrides = {},
): Promise<TestGateway> {
  const doc = gatewayConfigDoc(pg, overrides);
  const loaded = loadConfig(JSON.stringify(doc), gatewayEnv(pg, overrides), process.cwd());
  if (!loaded.ok) throw new Error(`test config invalid: ${JSON.stringify(loaded.problems)}`);
  const log =
    overrides.log === 'stderr' ? createLogger({ level: 'debug' }) : (overrides.log ?? silentLogger);
  const gateway = createGateway({
    config: loaded.config,
    secret: loaded.secret,
    log,
    ...(overrides.observer !== undefined ? { observer: overrides.observer } : {}),
    ...(overrides.now !== undefined ? { now: overrides.now } : {}),
    ...(overrides.admit !== undefined ? { admit: overrides.admit } : {}),
  });
  const address: AddressInfo = await gateway.listen();
  return {
    gateway,
    port: address.port,
    host: '127.0.0.1',
    url(user = 'agent', database = 'app', extra = '') {
      const u = TEST_USERS[user];
      return `postgres://${u.name}:${encodeURIComponent(u.password)}@127.0.0.1:${address.port}/${database}${extra}`;
    },
    [Symbol.asyncDispose]: () => gateway.shutdown(0),
  };
}

export const readCa = (pg: PgInfo): string => readFileSync(pg.caFile, 'utf8');
