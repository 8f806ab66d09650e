// The in-process drivers as row sessions: node-postgres (simple Query for rows marked simple, the
// extended protocol for the rest) and postgres.js (named prepared statements, a simple Query for rows
// marked simple or multi).
import pg from 'pg';
import postgres from 'postgres';
import type { Endpoint } from '../drivers/driver-env.js';
import { needsSimple, type PolicyRow, type RowResult } from './row.js';
import { type OpenRowSession, type SessionState, STATE_SQL } from './run-live.js';

interface DriverError {
  code?: unknown;
  message?: unknown;
  hint?: unknown;
}

function failure(error: unknown): RowResult {
  const e = (error ?? {}) as DriverError;
  return {
    ok: false,
    sqlstate: typeof e.code === 'string' ? e.code : null,
    message: typeof e.message === 'string' ? e.message : String(error),
    hint: typeof e.hint === 'string' ? e.hint : null,
  };
}

const OK: RowResult = { ok: true, sqlstate: null, message: null };

function toState(row: Record<string, unknown> | undefined): SessionState {
  return { pid: Number(row?.pid), role: String(row?.role), path: String(row?.path) };
}

export const openNodePg: OpenRowSession = async (e: Endpoint) => {
  const client = new pg.Client({
    host: e.host,
    port: e.port,
    user: e.user,
    password: e.password,
    database: e.database,
  });
  // LISTEN/NOTIFY rows deliver notifications; nothing waits for them.
  client.on('notification', () => undefined);
  client.on('notice', () => undefined);
  await client.connect();
  const extended = (text: string) =>
    client.query({ text, values: [], queryMode: 'extended' } as pg.QueryConfig);
  return {
    async run(row: PolicyRow) {
      try {
        await (needsSimple(row) ? client.query(row.sql) : extended(row.sql));
        return OK;
      } catch (error) {
        return failure(error);
      }
    },
    async state() {
      return toState((await extended(STATE_SQL)).rows[0]);
    },
    close: () => client.end(),
  };
};

/** A named prepared statement over the extended protocol (`simple` is honoured, not typed). */
const EXTENDED = { prepare: true, simple: false } as postgres.UnsafeQueryOptions;

export const openPostgresJs: OpenRowSession = async (e: Endpoint) => {
  const sql = postgres({
    host: e.host,
    port: e.port,
    user: e.user,
    pass: e.password,
    database: e.database,
    ssl: false,
    max: 1,
    onnotice: () => undefined,
  });
  return {
    async run(row: PolicyRow) {
      try {
        // unsafe() without parameters sends a simple Query; simple: false prepares and executes it.
        await (needsSimple(row) ? sql.unsafe(row.sql) : sql.unsafe(row.sql, [], EXTENDED));
        return OK;
      } catch (error) {
        return failure(error);
      }
    },
    async state() {
      const rows = await sql.unsafe(STATE_SQL, [], EXTENDED);
      return toState(rows[0]);
    },
    close: () => sql.end({ timeout: 5 }),
  };
};
