// Fan-out through the gateway: 500 node-postgres clients connect at once (the shared cluster allows 600),
// each runs a query on its own upstream backend, all close, and the gateway ends up with no session.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type DriverEnv,
  noSessionsLeft,
  startDriverEnv,
  waitFor,
} from '../harness/drivers/driver-env.js';

const info = inject('pg');
let env: DriverEnv;
beforeAll(async () => {
  env = await startDriverEnv(info, 'drv_conns');
});
afterAll(async () => {
  await env[Symbol.asyncDispose]();
});

const CLIENTS = 500;

describe('many concurrent connections', () => {
  it(`opens ${CLIENTS} sessions at once, queries on each, and closes them all`, async () => {
    const e = env.gateway;
    const clients = Array.from(
      { length: CLIENTS },
      () =>
        new pg.Client({
          host: e.host,
          port: e.port,
          user: e.user,
          password: e.password,
          database: e.database,
          connectionTimeoutMillis: 30_000,
        }),
    );
    try {
      const connected = await Promise.allSettled(clients.map((c) => c.connect()));
      const refused = connected.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      expect(refused).toEqual([]);
      // Every client is logged in, so each holds a session and an upstream backend right now.
      expect(env.gw.gateway.sessionCount).toBe(CLIENTS);

      const answers = await Promise.all(
        clients.map(async (c, i) => {
          const { rows } = await c.query<{ i: number; pid: number }>(
            'select $1::int as i, pg_backend_pid() as pid',
            [i],
          );
          return rows[0]!;
        }),
      );
      expect(answers.map((a) => a.i)).toEqual(clients.map((_, i) => i));
      expect(new Set(answers.map((a) => a.pid)).size).toBe(CLIENTS);
    } finally {
      await Promise.allSettled(clients.map((c) => c.end()));
    }
    await noSessionsLeft(env);
    expect(env.gw.gateway.sessionCount).toBe(0);
    await waitFor('client sockets to close', () =>
      env.gw.gateway.connectionCount === 0 ? true : undefined,
    );
  }, 90_000);
});
