// LISTEN/NOTIFY across two connections through the gateway for every driver: one session listens, a
// second one notifies, and the listener must receive the channel, the payload and the sender's pid.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type DriverEnv,
  noSessionsLeft,
  startDriverEnv,
  waitFor,
} from '../harness/drivers/driver-env.js';
import { lines, runPsql, spawnPsql } from '../harness/drivers/psql.js';
import { runPython } from '../harness/drivers/python.js';
import { connectPg, driverScenario, postgresJs } from '../harness/drivers/scenario.js';

const info = inject('pg');
let env: DriverEnv;
beforeAll(async () => {
  env = await startDriverEnv(info, 'drv_notify');
});
afterAll(async () => {
  await noSessionsLeft(env);
  await env[Symbol.asyncDispose]();
});

const CHANNEL = 'drv_events';
/** `senderMatches` is null where the driver does not expose the sender's pid. */
type NotifyResult = { channel: string; payload: string; senderMatches: boolean | null };
const payloadOf = (driver: string) => `hello from ${driver} ✓`;

describe('LISTEN/NOTIFY across two connections', () => {
  driverScenario<NotifyResult>(
    'LISTEN/NOTIFY',
    () => env,
    {
      // psql reports a notification after the next command it runs, so the listener reads its script
      // from stdin and runs `select 1` until the notice shows up (bounded).
      psql: async (e) => {
        const listener = spawnPsql(e.gateway, ['-f', '-']);
        let out = '';
        listener.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        const exited = once(listener, 'close');
        try {
          listener.stdin.write(`LISTEN ${CHANNEL};\n\\echo listening\n`);
          await waitFor('psql to listen', () => (out.includes('listening') ? true : undefined));
          const notifier = await runPsql(e.gateway, [
            '-c',
            'select pg_backend_pid()',
            '-c',
            `NOTIFY ${CHANNEL}, '${payloadOf('psql')}'`,
          ]);
          expect(notifier).toMatchObject({ code: 0, stderr: '' });
          const senderPid = lines(notifier.stdout)[0];
          const note =
            /Asynchronous notification "(\w+)" with payload "(.*)" received from server process with PID (\d+)\./;
          for (let i = 0; i < 200 && !note.test(out); i++) {
            const seen = out.length;
            listener.stdin.write(`select ${i};\n`);
            await waitFor('psql to answer', () => (out.length > seen ? true : undefined));
          }
          const m = note.exec(out);
          return {
            channel: m?.[1] ?? '',
            payload: m?.[2] ?? '',
            senderMatches: m?.[3] === senderPid,
          };
        } finally {
          listener.stdin.end();
          await exited;
        }
      },
      'node-postgres': async (e) => {
        await using listener = await connectPg(e.gateway);
        await using notifier = await connectPg(e.gateway);
        await listener.query(`LISTEN ${CHANNEL}`);
        const received = once(listener, 'notification') as Promise<
          [{ channel: string; payload?: string; processId: number }]
        >;
        const { rows } = await notifier.query<{ pid: number }>('select pg_backend_pid() as pid');
        await notifier.query('select pg_notify($1, $2)', [CHANNEL, payloadOf('node-postgres')]);
        const [msg] = await received;
        return {
          channel: msg.channel,
          payload: msg.payload ?? '',
          senderMatches: msg.processId === rows[0]!.pid,
        };
      },
      // postgres.js listens on a connection of its own; the notify goes through the regular one.
      'postgres.js': async (e) => {
        await using sql = postgresJs(e.gateway);
        let deliver: (payload: string) => void = () => undefined;
        const received = new Promise<string>((resolve) => (deliver = resolve));
        const listening = await sql.listen(CHANNEL, (payload) => deliver(payload));
        await sql.notify(CHANNEL, payloadOf('postgres.js'));
        const payload = await received;
        await listening.unlisten();
        return { channel: CHANNEL, payload, senderMatches: null };
      },
      psycopg: (e) =>
        runPython<NotifyResult>('notify.py', [CHANNEL, payloadOf('psycopg')], e.gateway, {
          timeoutMs: 20_000,
        }),
    },
    (result, driver) => {
      expect(result).toMatchObject({ channel: CHANNEL, payload: payloadOf(driver) });
      if (driver !== 'postgres.js') expect(result.senderMatches).toBe(true);
    },
  );

  // The client knows its session by the gateway-issued BackendKeyData pid; a notification the session
  // raised itself must carry that pid (libpq suggests comparing with PQbackendPID to skip one's own).
  it('a self-notification carries the pid the client got in BackendKeyData', async () => {
    await using c = await connectPg(env.gateway);
    await c.query(`LISTEN ${CHANNEL}`);
    const received = once(c, 'notification') as Promise<[{ processId: number }]>;
    await c.query(`NOTIFY ${CHANNEL}, 'self'`);
    const [msg] = await received;
    const keyPid = (c as unknown as { processID: number }).processID;
    expect(msg.processId).toBe(keyPid);
  });
});
