// pgbench through the gateway: `pgbench -i -s 1` (DDL, COPY, VACUUM, primary keys), then the select-only
// and the default TPC-B scripts in each query mode (simple, extended, prepared) with fixed transaction
// counts. pgbench's report must show every transaction processed and none failed, and TPC-B's history
// rows must match the transactions run.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type DriverEnv,
  type Endpoint,
  libpqEnv,
  noSessionsLeft,
  startDriverEnv,
} from '../harness/drivers/driver-env.js';
import { run } from '../harness/exec.js';

const PGBENCH = '/usr/bin/pgbench';
const info = inject('pg');
let env: DriverEnv;
beforeAll(async () => {
  env = await startDriverEnv(info, 'drv_pgbench');
  await pgbench(env.gateway, ['-i', '-s', '1', '-q']);
}, 120_000);
afterAll(async () => {
  await noSessionsLeft(env);
  await env[Symbol.asyncDispose]();
});

function pgbench(e: Endpoint, args: readonly string[]): Promise<string> {
  const conn = ['-h', e.host, '-p', String(e.port), '-U', e.user];
  return run(PGBENCH, [...conn, ...args, e.database], { env: libpqEnv(e), timeoutMs: 60_000 });
}

/** The two counters pgbench prints at the end of a run. */
function report(stdout: string): { processed: string; failed: number } {
  const processed = /number of transactions actually processed: (\d+\/\d+)/.exec(stdout)?.[1];
  const failed = /number of failed transactions: (\d+)/.exec(stdout)?.[1];
  if (processed === undefined || failed === undefined) {
    throw new Error(`unexpected pgbench output:\n${stdout}`);
  }
  return { processed, failed: Number(failed) };
}

const CLIENTS = 4;
const SELECT_TX = 250;
const TPCB_TX = 100;
const MODES = ['simple', 'extended', 'prepared'] as const;

describe('pgbench through the gateway', () => {
  it('initialised the scale-1 data set', async () => {
    const { rows } = await env.admin.query<{ accounts: number; branches: number }>(
      'select (select count(*)::int from pgbench_accounts) as accounts, (select count(*)::int from pgbench_branches) as branches',
    );
    expect(rows[0]).toEqual({ accounts: 100_000, branches: 1 });
  });

  it.each(MODES)('select-only (-S), -M %s', async (mode) => {
    const out = await pgbench(env.gateway, [
      '-n',
      '-S',
      '-M',
      mode,
      '-c',
      String(CLIENTS),
      '-j',
      '2',
      '-t',
      String(SELECT_TX),
    ]);
    const total = CLIENTS * SELECT_TX;
    expect(report(out)).toEqual({ processed: `${total}/${total}`, failed: 0 });
  });

  it.each(MODES)('TPC-B (default script), -M %s', async (mode) => {
    const before = await historyRows();
    const out = await pgbench(env.gateway, [
      '-n',
      '-M',
      mode,
      '-c',
      String(CLIENTS),
      '-j',
      '2',
      '-t',
      String(TPCB_TX),
    ]);
    const total = CLIENTS * TPCB_TX;
    expect(report(out)).toEqual({ processed: `${total}/${total}`, failed: 0 });
    // Each TPC-B transaction inserts exactly one history row.
    expect((await historyRows()) - before).toBe(total);
  });
});

async function historyRows(): Promise<number> {
  const { rows } = await env.admin.query<{ n: number }>(
    'select count(*)::int as n from pgbench_history',
  );
  return rows[0]!.n;
}
