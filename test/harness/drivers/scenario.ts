// The driver scenario table: each scenario names one implementation per driver (or why the driver cannot
// express it) and one check that every driver's normalised result must pass, so the same expectation
// proves the gateway transparent for psql, node-postgres, postgres.js and psycopg alike.
import pg from 'pg';
import postgres from 'postgres';
import { it } from 'vitest';
import type { DriverEnv, Endpoint } from './driver-env.js';

export const DRIVERS = ['psql', 'node-postgres', 'postgres.js', 'psycopg'] as const;
export type DriverName = (typeof DRIVERS)[number];

export interface NotApplicable {
  readonly notApplicable: string;
}
export const notApplicable = (why: string): NotApplicable => ({ notApplicable: why });

export type DriverImpl<T> = ((env: DriverEnv) => Promise<T>) | NotApplicable;
export type ScenarioTable<T> = Readonly<Record<DriverName, DriverImpl<T>>>;

/**
 * Registers one test per applicable driver: `run` produces the driver's normalised result and `check`
 * asserts on it. Non-applicable combinations stay documented in the table and register no test.
 */
export function driverScenario<T>(
  name: string,
  env: () => DriverEnv,
  table: ScenarioTable<T>,
  check: (result: T, driver: DriverName) => void | Promise<void>,
  timeout?: number,
): void {
  for (const driver of DRIVERS) {
    const impl = table[driver];
    if (typeof impl !== 'function') continue;
    it(`${name} — ${driver}`, async () => check(await impl(env()), driver), timeout);
  }
}

export type PgClient = pg.Client & AsyncDisposable;
export type PostgresJs = postgres.Sql & AsyncDisposable;

/** A connected node-postgres client that `await using` ends. */
export async function connectPg(e: Endpoint, extra: pg.ClientConfig = {}): Promise<PgClient> {
  const client = new pg.Client({
    host: e.host,
    port: e.port,
    user: e.user,
    password: e.password,
    database: e.database,
    ...extra,
  });
  await client.connect();
  return Object.assign(client, {
    [Symbol.asyncDispose]: () => client.end(),
  });
}

/** A postgres.js instance (no TLS, notices ignored) that `await using` ends. */
export function postgresJs(
  e: Endpoint,
  extra: postgres.Options<Record<string, never>> = {},
): PostgresJs {
  const sql = postgres({
    host: e.host,
    port: e.port,
    user: e.user,
    pass: e.password,
    database: e.database,
    ssl: false,
    max: 1,
    onnotice: () => undefined,
    ...extra,
  });
  return Object.assign(sql, {
    [Symbol.asyncDispose]: () => sql.end({ timeout: 5 }),
  });
}

/** Cell value as text, the common form every driver's result is normalised to. */
export function cell(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  return String(value);
}
