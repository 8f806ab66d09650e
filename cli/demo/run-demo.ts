// Starts the whole demo in this process: PGlite upstreams, a development IdP, the demo policy
// repository and its data-only bundle, then the gateway, audit store and API through compose(), and
// mints a pgward credential per demo identity. close() stops everything in reverse order.

import path from 'node:path';
import { connectionString } from '../../api/routes/credentials.js';
import { createLogger, type LogLevel } from '../../lib/log.js';
import { gitAt } from '../../policy/repo/git.js';
import { type Composed, compose } from '../compose.js';
import { type DemoIdentity, type DemoInfo, eventLine } from './banner.js';
import { createPolicyPublisher, type PolicyPublisher } from './bundle-publisher.js';
import { type DemoDatabases, startDemoDatabases } from './databases.js';
import { writeDemoConfig } from './demo-config.js';
import { type DevIdp, startDevIdp } from './dev-idp.js';
import { createDemoPolicyRepo, GRANT_HOURS } from './policy-repo.js';
import { CACHE_DIR, claimStateDir } from './state-dir.js';

export const DEMO_IDENTITIES: readonly DemoIdentity[] = [
  {
    id: 'mcp-analytics',
    group: 'analytics',
    summary:
      'reads customers, orders and products (not staff) in shop and shop_archive; personal data masked',
    variable: 'ANALYTICS_URL',
    archiveVariable: 'ANALYTICS_ARCHIVE_URL',
    commands: [
      {
        sql: 'SELECT id, status, total, ordered_at FROM orders ORDER BY id LIMIT 5',
        note: 'allowed',
      },
      {
        sql: 'SELECT id, full_name, email, phone, ssn, card_number FROM customers ORDER BY id LIMIT 5',
        note: 'masked: e-mail domain only, last digits of phone and card, ssn redacted',
      },
      { sql: 'DROP TABLE orders', note: 'blocked: DDL (SQLSTATE 42501)' },
      { sql: 'DELETE FROM orders WHERE id = 42', note: 'blocked: no grant to delete' },
    ],
  },
  {
    id: 'ops-agent',
    group: 'ops',
    summary: 'maintains orders in shop; every DELETE needs a human approval (approval.ops_delete)',
    variable: 'OPS_URL',
    commands: [
      {
        sql: "SELECT id, status, total FROM orders WHERE status = 'refunded' ORDER BY id LIMIT 5",
        note: 'allowed',
      },
      {
        sql: 'SELECT id, customer_id, card_token FROM orders ORDER BY id LIMIT 5',
        note: 'masked: card_token hashed',
      },
      { sql: 'DROP TABLE orders', note: 'blocked: DDL (SQLSTATE 42501)' },
      {
        sql: 'DELETE FROM orders WHERE id = 42',
        note: 'needs approval: the HINT names the request',
      },
    ],
  },
];
const AUDITOR = { id: 'audit-viewer', groups: ['auditors'], description: 'reads the audit API' };
const DEFAULT_PORTS = { gateway: 6432, idp: 6480, api: 6481 } as const;

export interface DemoOptions {
  readonly stateDir: string;
  /** 'default': gateway 6432, IdP 6480, API 6481; 'ephemeral': every port picked by the system. */
  readonly ports: 'default' | 'ephemeral';
  readonly logLevel: LogLevel;
  readonly out: (text: string) => void;
  /** How often the policy repository is checked for requests and merges. */
  readonly pollMs?: number;
}

export interface RunningDemo {
  readonly info: DemoInfo;
  close(): Promise<void>;
}

export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const t0 = performance.now();
  await requireGit();
  const state = await claimStateDir(options.stateDir);
  const cleanup: (() => Promise<void>)[] = [() => state.release()];
  const close = async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  };
  const port = (name: keyof typeof DEFAULT_PORTS) =>
    options.ports === 'ephemeral' ? 0 : DEFAULT_PORTS[name];
  try {
    // Started side by side; allSettled so a failure still waits for the others to be tracked.
    const settled = await Promise.allSettled([
      track(startDemoDatabases(path.join(state.path, CACHE_DIR)), cleanup, (d: DemoDatabases) =>
        d.close(),
      ),
      track(
        startDevIdp({
          clients: [
            ...DEMO_IDENTITIES.map((i) => ({
              id: i.id,
              groups: [i.group],
              description: i.summary,
            })),
            AUDITOR,
          ],
          audience: 'urn:pgward:demo',
          port: port('idp'),
          tokenTtlS: GRANT_HOURS * 3600,
        }),
        cleanup,
        (i: DevIdp) => i.close(),
      ),
      // The policy repository, then its first bundle on the bundle branch for the gateway to pull.
      createDemoPolicyRepo(state.path, Date.now()).then(async (repo) => {
        const publisher = await track(
          createPolicyPublisher({
            stateDir: state.path,
            remote: repo.remote,
            intervalMs: options.pollMs ?? 1000,
          }),
          cleanup,
          (p: PolicyPublisher) => p.close(),
        );
        await publisher.publishMain();
        return { repo, publisher };
      }),
    ] as const);
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
    const [databases, idp, { repo, publisher }] = settled.map(
      (s) => (s as PromiseFulfilledResult<unknown>).value,
    ) as [
      DemoDatabases,
      DevIdp,
      { repo: Awaited<ReturnType<typeof createDemoPolicyRepo>>; publisher: PolicyPublisher },
    ];
    const loaded = await writeDemoConfig({
      stateDir: state.path,
      gatewayPort: port('gateway'),
      apiPort: port('api'),
      issuer: idp.issuer,
      audience: idp.audience,
      databases: databases.list,
      policyRemote: path.relative(state.path, repo.remote),
      logLevel: options.logLevel,
    });
    const composed: Composed = await compose({
      config: loaded.config,
      secret: loaded.secret,
      configDir: loaded.configDir,
      log: createLogger({ level: options.logLevel }),
    });
    cleanup.push(() => composed.close());
    const git = composed.git;
    const api = composed.api;
    if (git === null || api === null) throw new Error('the demo config lost policy.git or the API');
    publisher.watch(
      () => git.source.pullNow(),
      (event) => options.out(eventLine(event, repo.clone)),
    );
    // On close, stop watching before the gateway stops (no rebuild while shutting down).
    cleanup.push(() => publisher.close());

    const host = composed.address.address;
    const gatewayPort = composed.address.port;
    // Each agent's IdP token exchanged for a pgward credential, exactly as an agent would do it.
    const identities = await Promise.all(
      DEMO_IDENTITIES.map(async (who) => {
        // The demo has no TLS; the API's connection string asks for it.
        const urlFor = async (database: string) =>
          connectionString(
            host,
            gatewayPort,
            who.id,
            await mint(api.url, await idp.token(who.id), database),
            database,
          ).replace('sslmode=require', 'sslmode=disable');
        const url = await urlFor('shop');
        // A credential opens only the database it was minted for: the archive gets its own.
        if (who.archiveVariable === undefined) return { ...who, url };
        return { ...who, url, archiveUrl: await urlFor('shop_archive') };
      }),
    );
    const info: DemoInfo = {
      gateway: { host, port: gatewayPort },
      apiUrl: api.url,
      auditorToken: await idp.token(AUDITOR.id),
      issuer: idp.issuer,
      databases: databases.list,
      stateDir: state.path,
      policyClone: repo.clone,
      configFile: loaded.file,
      identities,
      startupMs: performance.now() - t0,
    };
    return { info, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function track<T>(
  start: Promise<T>,
  cleanup: (() => Promise<void>)[],
  stop: (value: T) => Promise<void>,
): Promise<T> {
  const value = await start;
  cleanup.push(() => stop(value));
  return value;
}

async function requireGit(): Promise<void> {
  try {
    await gitAt(process.cwd(), { timeoutMs: 10_000 }).raw(['--version']);
  } catch (err) {
    throw new Error(
      'pgward demo needs git on the PATH (its policy repository is a git repository)',
      {
        cause: err,
      },
    );
  }
}

/** POST /v1/credentials: the OIDC access token exchanged for a pgward credential. */
async function mint(apiUrl: string, token: string, database: string): Promise<string> {
  const res = await fetch(`${apiUrl}/v1/credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ database }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await res.json()) as { credential?: unknown; detail?: unknown };
  if (!res.ok || typeof body.credential !== 'string')
    throw new Error(
      `minting a demo credential failed: HTTP ${res.status} ${String(body.detail ?? '')}`,
    );
  return body.credential;
}
