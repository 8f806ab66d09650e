// Query cancel through the gateway with each driver's own cancel mechanism: `select pg_sleep(30)` is
// cancelled once the backend is seen sleeping, SQLSTATE 57014 must arrive (the test timeout is well under
// 30 s, so only a working cancel passes), and the same session must answer the next query.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject } from 'vitest';
import {
  type DriverEnv,
  noSessionsLeft,
  sleepingBackend,
  startDriverEnv,
} from '../harness/drivers/driver-env.js';
import { psqlResult, spawnPsql } from '../harness/drivers/psql.js';
import { runPython } from '../harness/drivers/python.js';
import { sendCancelRequest } from '../harness/drivers/raw-client.js';
import { connectPg, driverScenario, postgresJs } from '../harness/drivers/scenario.js';

const info = inject('pg');
let env: DriverEnv;
beforeAll(async () => {
  env = await startDriverEnv(info, 'drv_cancel');
  await env.admin.query('create table cancel_after (driver text, n int, pid int)');
  await env.admin.query(`alter table cancel_after owner to ${env.direct.user}`);
});
afterAll(async () => {
  await noSessionsLeft(env);
  await env[Symbol.asyncDispose]();
});

/** Far below pg_sleep(30): a cancel that does not work fails the test by timeout. */
const CANCEL_TIMEOUT_MS = 20_000;

type CancelResult = { code: string | null; samePid: boolean; after: number };

describe('cancel a running query from another connection', () => {
  driverScenario<CancelResult>(
    'cancel pg_sleep(30)',
    () => env,
    {
      // SIGINT makes psql send a CancelRequest with the BackendKeyData the gateway issued. psql then
      // suppresses printing for the rest of a -c run, so the follow-up writes a row instead.
      psql: async (e) => {
        const child = spawnPsql(
          e.gateway,
          [
            '-c',
            'select pg_sleep(30)',
            '-c',
            '\\echo sqlstate=:LAST_ERROR_SQLSTATE',
            '-c',
            "insert into cancel_after select 'psql', 40 + 2, pg_backend_pid()",
            '-c',
            '\\echo error=:ERROR rows=:ROW_COUNT',
          ],
          { onErrorStop: false },
        );
        child.stdin.end();
        const result = psqlResult(child);
        const pid = await sleepingBackend(e);
        child.kill('SIGINT');
        const r = await result;
        expect(r.stderr).toContain('ERROR:  57014: canceling statement due to user request');
        expect(r.stdout).toContain('error=false rows=1');
        const { rows } = await e.admin.query<{ n: number; pid: number }>(
          "select n, pid from cancel_after where driver = 'psql'",
        );
        return {
          code: /sqlstate=(\w+)/.exec(r.stdout)?.[1] ?? null,
          samePid: rows[0]?.pid === pid,
          after: rows[0]?.n ?? -1,
        };
      },
      // node-postgres has no cancel API of its own: a raw CancelRequest carries the key it received.
      'node-postgres': async (e) => {
        await using client = await connectPg(e.gateway);
        const key = client as unknown as { processID: number; secretKey: number };
        const sleeping = client.query('select pg_sleep(30)').then(
          () => null,
          (err: { code?: string }) => err.code ?? 'no-sqlstate',
        );
        const pid = await sleepingBackend(e);
        await sendCancelRequest(e.gateway.host, e.gateway.port, key.processID, key.secretKey);
        const code = await sleeping;
        const { rows } = await client.query<{ n: number; pid: number }>(
          'select 40 + 2 as n, pg_backend_pid() as pid',
        );
        return { code, samePid: rows[0]!.pid === pid, after: rows[0]!.n };
      },
      'postgres.js': async (e) => {
        await using sql = postgresJs(e.gateway);
        const query = sql`select pg_sleep(30)`;
        // A query cancelled before it reached the server is rejected locally with the same code;
        // only a server error is a PostgresError.
        const sleeping = query.then(
          () => null,
          (err: unknown) =>
            err instanceof postgres.PostgresError ? err.code : `local: ${String(err)}`,
        );
        const pid = await sleepingBackend(e);
        query.cancel();
        const code = await sleeping;
        const [row] = await sql<
          { n: number; pid: number }[]
        >`select ${40}::int + 2 as n, pg_backend_pid() as pid`;
        return { code, samePid: row!.pid === pid, after: row!.n };
      },
      psycopg: (e) =>
        runPython<CancelResult>('cancel.py', [], e.gateway, { timeoutMs: CANCEL_TIMEOUT_MS }),
    },
    (result) => expect(result).toEqual({ code: '57014', samePid: true, after: 42 }),
    CANCEL_TIMEOUT_MS,
  );
});
