// The world of the approval e2e tests: a dedicated database with an `orders` table, a policy repository
// scaffolded by the built CLI on a bare remote (plus a grant letting group ops delete from orders), CI
// simulated by the scaffolded workflow's own commands, and gateways that pull the bundle branch and
// file approval requests into the same repository, each with an injected clock.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Hono } from 'hono';
import pg from 'pg';
import { createApi } from '../../api/create-api.js';
import { toStatementRecords } from '../../audit/map.js';
import type { UnsealedStatementRecord } from '../../audit/record.js';
import {
  openApprovalUses,
  wireApprovalDesk,
  wireApprovalsApi,
} from '../../cli/approval-commands.js';
import { loadConfig } from '../../cli/config.js';
import { wireGitPolicy } from '../../cli/policy-repo-commands.js';
import { createLogger } from '../../lib/log.js';
import type { ApprovalDesk, ApprovalDeskEvent } from '../../proxy/decider/approval-desk.js';
import { createGateway, type Gateway } from '../../proxy/gateway.js';
import { adminPsql } from '../harness/drivers/driver-env.js';
import { gatewayConfigDoc, gatewayEnv, TEST_USERS } from '../harness/gateway.js';
import {
  createGitWorkspace,
  type GitClone,
  type GitWorkspace,
  pgward,
  runWorkflow,
} from '../harness/git.js';
import { isoIn } from '../harness/policy.js';
import type { PgInfo } from '../harness/postgres.js';

/** A second identity in group ops: the approval of svc-ops must not let it run anything. */
export const OPS_B = { name: 'svc-ops-b', password: 'ops-b-secret-3', groups: ['ops'] } as const;
export const USERS = { ...TEST_USERS, opsB: OPS_B } as const;
export type UserName = keyof typeof USERS;

export interface ApprovalWorld extends AsyncDisposable {
  readonly info: PgInfo;
  readonly database: string;
  readonly ws: GitWorkspace;
  readonly env: NodeJS.ProcessEnv;
  /** Superuser connection to the dedicated database. */
  readonly admin: pg.Client;
  readonly ci: GitClone;
  /** CI on main: the scaffolded main workflow's commands; returns the bundle branch's commit. */
  publish(): Promise<string>;
  /** The ids left in orders, ascending. */
  orderIds(): Promise<number[]>;
}

export async function createApprovalWorld(info: PgInfo, database: string): Promise<ApprovalWorld> {
  await adminPsql(info, [
    `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`,
    `CREATE DATABASE ${database} OWNER ${info.scramUser}`,
  ]);
  const cleanups: (() => PromiseLike<unknown>)[] = [
    () => adminPsql(info, [`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`]),
  ];
  const dispose = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    const admin = new pg.Client({
      host: info.host,
      port: info.port,
      user: info.superuser,
      database,
    });
    await admin.connect();
    cleanups.push(() => admin.end());
    await admin.query(`
      SET ROLE ${info.scramUser};
      CREATE TABLE orders (id int PRIMARY KEY, note text);
      INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 10) g;
      ANALYZE orders;
      RESET ROLE;`);

    const ws = await createGitWorkspace();
    cleanups.push(() => ws[Symbol.asyncDispose]());
    const env = ws.childEnv();
    const repoDir = path.join(ws.root, 'policy');
    await pgward(['policy', 'init', repoDir], { cwd: ws.root, env });
    const notBefore = isoIn(-3600);
    const grantId = `${notBefore.slice(0, 10)}-group-ops-e2e-orders`;
    await writeFile(
      path.join(repoDir, 'grants', `${grantId}.json`),
      `${JSON.stringify(
        {
          id: grantId,
          subject: { group: 'ops' },
          database,
          objects: [{ schema: 'public', table: 'orders', actions: ['select', 'delete'] }],
          not_before: notBefore,
          expires_at: isoIn(86_400),
          reason: 'e2e: ops may delete orders, each DELETE approved separately',
          requester: 'maintainer@example.test',
        },
        null,
        2,
      )}\n`,
    );
    const maintainer = await ws.adopt(repoDir, 'maintainer');
    await maintainer.commitAll('policy: scaffold with the ops grant');
    await maintainer.git.raw(['push', '-q', 'origin', 'main']);
    const ci = await ws.clone('ci');

    const publish = async () => {
      await ci.git.raw(['fetch', '-q', 'origin']);
      await ci.git.raw(['checkout', '-q', 'main']);
      await ci.git.raw(['reset', '-q', '--hard', 'origin/main']);
      await runWorkflow(ci.dir, 'main', env);
      const head = await ws.remoteHead('pgward-bundle');
      if (head === null) throw new Error('the main workflow published no bundle');
      return head;
    };
    await publish();
    return {
      info,
      database,
      ws,
      env,
      admin,
      ci,
      publish,
      async orderIds() {
        const { rows } = await admin.query<{ id: number }>('SELECT id FROM orders ORDER BY id');
        return rows.map((r) => r.id);
      },
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

export interface ApprovalGateway extends AsyncDisposable {
  readonly gateway: Gateway;
  readonly port: number;
  readonly desk: ApprovalDesk;
  /** The HTTP API with GET /v1/approvals, wired from the same config. */
  readonly api: Hono;
  /** Pulls the bundle branch now (what the webhook does). */
  pull(): Promise<string>;
  /** The gateway's clock: null follows the real time. */
  readonly clock: { ms: number | null };
  readonly lines: (Record<string, unknown> & { msg: string })[];
  readonly events: ApprovalDeskEvent[];
  /** Audit records of every judged statement, as the audit writer would get them. */
  readonly records: UnsealedStatementRecord[];
  /** Resolves when an event satisfying `match` has been seen (checked at every event). */
  event(match: (e: ApprovalDeskEvent) => boolean): Promise<ApprovalDeskEvent>;
  url(user: UserName): string;
}

/** The config document and environment of a gateway on the world's repo and database. */
export function approvalGatewayConfig(
  world: ApprovalWorld,
  approvals: Record<string, unknown> = {},
  extraEnv: Record<string, string> = {},
): { doc: Record<string, unknown>; env: Record<string, string> } {
  const { info, ws, database } = world;
  const users = Object.values(USERS);
  const envName = (name: string) => `TEST_PW_${name.replaceAll('-', '_').toUpperCase()}`;
  const doc = gatewayConfigDoc(info, {
    config: {
      auth: {
        allow_cleartext_on_loopback: true,
        users: users.map((u) => ({
          name: u.name,
          password: { env: envName(u.name) },
          groups: [...u.groups],
        })),
      },
      upstreams: [
        {
          name: database,
          host: info.host,
          port: info.port,
          database,
          user: info.scramUser,
          password: { env: 'TEST_UPSTREAM_PASSWORD' },
          tls: { mode: 'verify-full', ca: { file: info.caFile }, servername: 'localhost' },
        },
      ],
      policy: {
        git: {
          url: ws.remote,
          workdir: `gw-${Math.random().toString(36).slice(2)}`,
          poll_ms: 3_600_000,
        },
      },
      // Each gateway counts approval runs in its own file unless the test names one.
      approvals: {
        repo: ws.remote,
        uses_path: `uses-${Math.random().toString(36).slice(2)}.jsonl`,
        ...approvals,
      },
    },
  });
  const env = gatewayEnv(info, { env: { [envName(OPS_B.name)]: OPS_B.password, ...extraEnv } });
  return { doc, env };
}

export async function startApprovalGateway(
  world: ApprovalWorld,
  approvals: Record<string, unknown> = {},
  extraEnv: Record<string, string> = {},
): Promise<ApprovalGateway> {
  const { ws } = world;
  const { doc, env } = approvalGatewayConfig(world, approvals, extraEnv);
  const loaded = loadConfig(JSON.stringify(doc), env, ws.root);
  if (!loaded.ok) throw new Error(`config invalid: ${JSON.stringify(loaded.problems)}`);
  const lines: ApprovalGateway['lines'] = [];
  const log = createLogger({ level: 'info', write: (l) => lines.push(JSON.parse(l)) });
  const clock: { ms: number | null } = { ms: null };
  const now = () => clock.ms ?? Date.now();
  const events: ApprovalDeskEvent[] = [];
  const listeners = new Set<() => void>();
  const git = wireGitPolicy(loaded.config, {
    secret: loaded.secret,
    configDir: ws.root,
    workerIndex: 0,
    log,
  });
  if (git === null) throw new Error('policy.git did not wire');
  const uses = await openApprovalUses(loaded.config, { configDir: ws.root, log, now });
  const desk = wireApprovalDesk(loaded.config, {
    ...(uses !== null ? { uses } : {}),
    secret: loaded.secret,
    configDir: ws.root,
    log,
    env: {},
    now,
    retry: { baseMs: 100, maxMs: 400, maxAttempts: 50 },
    onEvent: (e) => {
      events.push(e);
      for (const l of [...listeners]) l();
    },
  });
  if (desk === null) throw new Error('approvals did not wire');
  const records: UnsealedStatementRecord[] = [];
  const gateway = createGateway({
    config: loaded.config,
    secret: loaded.secret,
    log,
    configDir: ws.root,
    now,
    policyLoader: git.policyLoader,
    approvals: desk,
    observer: {
      statementDone: (s, done) =>
        records.push(...toStatementRecords(s, done, { statementText: 'raw' })),
    },
  });
  const { port } = await gateway.listen();
  const routes = wireApprovalsApi(loaded.config, { configDir: ws.root, log });
  if (routes === null) throw new Error('the approvals API did not wire');
  const api = createApi({ log, routes: [routes] });
  return {
    gateway,
    port,
    desk,
    api,
    clock,
    lines,
    events,
    records,
    async pull() {
      const outcome = await git.source.pullNow();
      if (outcome.outcome === 'unavailable') throw new Error(outcome.message);
      return outcome.outcome;
    },
    event(match) {
      return new Promise((resolve) => {
        const check = () => {
          const found = events.find(match);
          if (found === undefined) return;
          listeners.delete(check);
          resolve(found);
        };
        listeners.add(check);
        check();
      });
    },
    url(user) {
      const u = USERS[user];
      return `postgres://${u.name}:${encodeURIComponent(u.password)}@127.0.0.1:${port}/${world.database}`;
    },
    [Symbol.asyncDispose]: async () => {
      desk.close();
      await desk.idle();
      await git.source.stop();
      await gateway.shutdown(0);
      await uses?.close();
    },
  };
}

/** Runs one statement through the gateway as `user`: the affected rows, or the driver's error. */
export async function run(
  gw: ApprovalGateway,
  user: UserName,
  sql: string,
): Promise<number | (Error & { code?: string; hint?: string })> {
  const client = new pg.Client({ connectionString: gw.url(user) });
  await client.connect();
  try {
    return (await client.query(sql)).rowCount ?? 0;
  } catch (err) {
    return err as Error;
  } finally {
    await client.end();
  }
}

/** The approval request id a refusal's HINT names. */
export function requestIdOf(result: unknown): string | null {
  const hint = (result as { hint?: unknown } | null)?.hint;
  return typeof hint === 'string'
    ? (/Approval request (apr-[0-9a-f]{16})/.exec(hint)?.[1] ?? null)
    : null;
}
