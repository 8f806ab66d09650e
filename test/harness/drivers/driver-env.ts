// One driver-test environment: a dedicated database owned by the upstream role, an in-process gateway
// whose only upstream is that database, and a direct superuser connection for observing the server.
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { run } from '../exec.js';
import { startGateway, TEST_USERS, type TestGateway } from '../gateway.js';
import type { PgInfo } from '../postgres.js';

export const PSQL = '/usr/bin/psql';

/** Where a client connects: the gateway (as a test identity) or PostgreSQL directly. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export interface DriverEnv extends AsyncDisposable {
  readonly gw: TestGateway;
  /** The gateway, logged in as the `agent` test identity, database = the dedicated database. */
  readonly gateway: Endpoint;
  /** PostgreSQL itself as the upstream role (the same role the gateway uses), for comparisons. */
  readonly direct: Endpoint;
  /** Superuser connection straight to the dedicated database (pg_stat_activity, checks). */
  readonly admin: pg.Client;
}

/** postgres:// URL; the password is left out when it travels in PGPASSWORD instead. */
export function endpointUrl(e: Endpoint, withPassword = true): string {
  const auth = withPassword
    ? `${encodeURIComponent(e.user)}:${encodeURIComponent(e.password)}`
    : encodeURIComponent(e.user);
  return `postgresql://${auth}@${e.host}:${e.port}/${encodeURIComponent(e.database)}`;
}

/** Environment for libpq tools (psql, pgbench, psycopg): nothing inherited that could change the login. */
export function libpqEnv(e: Endpoint, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    PGPASSWORD: e.password,
    PGCLIENTENCODING: 'UTF8',
    PGCONNECT_TIMEOUT: '10',
    ...extra,
  };
}

/** Runs SQL as superuser over TCP (trusted from 127.0.0.1), one transaction per statement. */
export function adminPsql(info: PgInfo, statements: readonly string[], db = 'postgres') {
  const args = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1'];
  args.push('-h', info.host, '-p', String(info.port), '-U', info.superuser, '-d', db);
  for (const sql of statements) args.push('-c', sql);
  return run(PSQL, args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PGCONNECT_TIMEOUT: '10' },
  });
}

/**
 * Creates database `name` owned by the upstream role (so it may create tables in `public`), starts a
 * gateway with an upstream entry of the same name, and opens a superuser connection to it.
 */
export async function startDriverEnv(info: PgInfo, name: string): Promise<DriverEnv> {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(name)) throw new RangeError(`bad database name ${name}`);
  await adminPsql(info, [
    `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`,
    `CREATE DATABASE ${name} OWNER ${info.scramUser}`,
    `GRANT ALL ON DATABASE ${name} TO ${info.scramUser}`,
  ]);
  const upstream = {
    name,
    host: info.host,
    port: info.port,
    database: name,
    user: info.scramUser,
    password: { env: 'TEST_UPSTREAM_PASSWORD' },
    tls: { mode: 'verify-full', ca: { file: info.caFile }, servername: 'localhost' },
  };
  const gw = await startGateway(info, { config: { upstreams: [upstream] } });
  const admin = new pg.Client({
    host: info.host,
    port: info.port,
    user: info.superuser,
    database: name,
  });
  try {
    await admin.connect();
  } catch (error) {
    await gw[Symbol.asyncDispose]();
    throw error;
  }
  const agent = TEST_USERS.agent;
  return {
    gw,
    gateway: {
      host: gw.host,
      port: gw.port,
      user: agent.name,
      password: agent.password,
      database: name,
    },
    direct: {
      host: info.host,
      port: info.port,
      user: info.scramUser,
      password: info.scramPassword,
      database: name,
    },
    admin,
    async [Symbol.asyncDispose]() {
      await admin.end().catch(() => undefined);
      await gw[Symbol.asyncDispose]();
      await adminPsql(info, [`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
    },
  };
}

/** Polls `probe` until it returns a value (bounded); for server states no event announces. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}

/** The upstream backend of `database` that sits in pg_sleep, once there is one. */
export function sleepingBackend(env: DriverEnv): Promise<number> {
  return waitFor('a backend in pg_sleep', async () => {
    const { rows } = await env.admin.query<{ pid: number }>(
      "select pid from pg_stat_activity where datname = current_database() and wait_event = 'PgSleep'",
    );
    return rows[0]?.pid;
  });
}

/** Resolves once the gateway has closed every session (clients may return before it sees Terminate). */
export function noSessionsLeft(env: DriverEnv): Promise<true> {
  return waitFor('gateway sessions to close', () =>
    env.gw.gateway.sessionCount === 0 ? true : undefined,
  );
}
