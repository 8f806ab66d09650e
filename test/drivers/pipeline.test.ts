// Pipelining through the gateway: 1,000 statements sent without waiting, then the same batch with
// statement 500 failing. Every run happens twice — through the gateway and straight to PostgreSQL —
// and the two must match exactly, besides matching PostgreSQL's documented semantics: with one Sync
// the batch is one implicit transaction (499 run, 500 fails, the rest is skipped, all rolled back);
// with a Sync per statement only statement 500 fails. A final query proves the connection in sync.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type DriverEnv,
  type Endpoint,
  noSessionsLeft,
  startDriverEnv,
} from '../harness/drivers/driver-env.js';
import { lines, runPsql } from '../harness/drivers/psql.js';
import { runPython } from '../harness/drivers/python.js';
import {
  type BatchResult,
  connectRaw,
  pipelinedBatch,
  summarizeBatch,
} from '../harness/drivers/raw-client.js';
import {
  connectPg,
  type DriverName,
  driverScenario,
  postgresJs,
  type ScenarioTable,
} from '../harness/drivers/scenario.js';

const info = inject('pg');
let env: DriverEnv;
beforeAll(async () => {
  env = await startDriverEnv(info, 'drv_pipeline');
});
afterAll(async () => {
  await noSessionsLeft(env);
  await env[Symbol.asyncDispose]();
});

const COUNT = 1000;
const FAIL_AT = 500;
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, k) => from + k);

type PipelineResult = { ok: number[]; errors: string[]; count: number; after: string };
type Mode = 'clean' | 'fail-at-500';

/** A fresh table owned by the upstream role; with `fail-at-500` inserting 500 violates a CHECK. */
async function freshTable(name: string, mode: Mode): Promise<string> {
  const check = mode === 'fail-at-500' ? ` check (n <> ${FAIL_AT})` : '';
  await env.admin.query(`drop table if exists ${name}`);
  await env.admin.query(`create table ${name} (n int${check})`);
  await env.admin.query(`alter table ${name} owner to ${env.direct.user}`);
  return name;
}

const insert = (table: string) => `insert into ${table} (n) values ($1) returning n`;

/** Runs one driver's batch against `e` (gateway or direct). */
type BatchRun = (e: Endpoint, table: string) => Promise<PipelineResult>;

const runs: Record<DriverName, BatchRun> = {
  // psql 15 has no pipeline mode (\startpipeline arrived in psql 18); its batch form is one simple
  // Query carrying all statements, which PostgreSQL also runs as one implicit transaction.
  psql: async (e, table) => {
    const batch = range(1, COUNT)
      .map((i) => `insert into ${table} (n) values (${i}) returning n;`)
      .join('\n');
    const follow = [`select count(*) from ${table}`, "select 'after' || '-ok'"];
    const r = await runPsql(e, ['-c', batch, '-c', follow[0]!, '-c', follow[1]!], {
      onErrorStop: false,
    });
    const out = lines(r.stdout);
    const errors = [...r.stderr.matchAll(/ERROR: {2}([0-9A-Z]{5}):/g)].map((m) => m[1]!);
    return {
      ok: out.slice(0, -2).map(Number),
      errors,
      count: Number(out.at(-2)),
      after: out.at(-1)!,
    };
  },
  // pg's pipeline mode writes every query (Parse/Bind/Describe/Execute/Sync) without waiting.
  'node-postgres': async (e, table) => {
    await using client = await connectPg(e, { pipeline: true });
    const settled = await Promise.allSettled(
      range(1, COUNT).map((i) => client.query<{ n: number }>(insert(table), [i])),
    );
    return await tail(
      settled.map((s) => (s.status === 'fulfilled' ? { n: s.value.rows[0]!.n } : s.reason)),
      async (sql, values) => (await client.query(sql, values)).rows[0] as Record<string, unknown>,
      table,
    );
  },
  // postgres.js pipelines queries issued without awaiting (Sync per query); max_pipeline is not in
  // its typings.
  'postgres.js': async (e, table) => {
    await using sql = postgresJs(e, { max_pipeline: COUNT } as object);
    const settled = await Promise.allSettled(
      range(1, COUNT).map((i) => sql.unsafe<{ n: number }[]>(insert(table), [i])),
    );
    return await tail(
      settled.map((s) => (s.status === 'fulfilled' ? { n: s.value[0]!.n } : s.reason)),
      async (text, values) =>
        (await sql.unsafe(text, values as never[]))[0] as Record<string, unknown>,
      table,
    );
  },
  psycopg: (e, table) => runPython<PipelineResult>('pipeline.py', [table, String(COUNT)], e),
};

/** Folds settled per-statement outcomes, then asks the same connection for the count and one more row. */
async function tail(
  outcomes: ({ n: number } | { code?: string })[],
  query: (sql: string, values: unknown[]) => Promise<Record<string, unknown>>,
  table: string,
): Promise<PipelineResult> {
  const ok: number[] = [];
  const errors: string[] = [];
  for (const o of outcomes) {
    if ('n' in o) ok.push(o.n);
    else errors.push(o.code ?? 'no-sqlstate');
  }
  const count = Number((await query(`select count(*)::int as c from ${table}`, [])).c);
  const after = String((await query("select 'after' || $1::text as a", ['-ok'])).a);
  return { ok, errors, count, after };
}

/** Runs the driver through the gateway and directly; both must agree before the check runs. */
function viaGatewayAndDirect(mode: Mode): ScenarioTable<PipelineResult> {
  const entry = (driver: DriverName) => async (e: DriverEnv) => {
    const name = `p_${driver.replace(/\W/g, '_')}_${mode === 'clean' ? 'ok' : 'err'}`;
    const direct = await runs[driver](e.direct, await freshTable(`${name}_direct`, mode));
    const gateway = await runs[driver](e.gateway, await freshTable(`${name}_gw`, mode));
    expect(gateway).toEqual(direct);
    return gateway;
  };
  return {
    psql: entry('psql'),
    'node-postgres': entry('node-postgres'),
    'postgres.js': entry('postgres.js'),
    psycopg: entry('psycopg'),
  };
}

/** Drivers that end the batch with one Sync (or send one Query) versus a Sync per statement. */
const ONE_SYNC: ReadonlySet<DriverName> = new Set(['psql', 'psycopg']);

describe(`pipelined batch of ${COUNT} statements`, () => {
  driverScenario(
    'pipeline',
    () => env,
    viaGatewayAndDirect('clean'),
    (result) => {
      expect(result).toEqual({ ok: range(1, COUNT), errors: [], count: COUNT, after: 'after-ok' });
    },
  );

  driverScenario(
    'pipeline, statement 500 fails',
    () => env,
    viaGatewayAndDirect('fail-at-500'),
    (result, driver) => {
      if (ONE_SYNC.has(driver)) {
        expect(result).toEqual({
          ok: range(1, FAIL_AT - 1),
          errors: ['23514'],
          count: 0,
          after: 'after-ok',
        });
      } else {
        const ok = range(1, COUNT).filter((i) => i !== FAIL_AT);
        expect(result).toEqual({ ok, errors: ['23514'], count: COUNT - 1, after: 'after-ok' });
      }
    },
  );
});

describe('raw pipelined client: 1,000 Parse/Bind/Execute and one Sync in one write', () => {
  /** Sends the batch on a fresh raw connection, then one simple query on the same connection. */
  async function rawBatch(e: Endpoint, table: string): Promise<BatchResult & { after: string[] }> {
    await using raw = await connectRaw(e);
    const batch = pipelinedBatch(
      range(1, COUNT).map((i) => ({ text: insert(table), values: [String(i)] })),
    );
    raw.write(batch);
    const result = summarizeBatch(await raw.untilReady());
    const follow = summarizeBatch(
      await raw.query(`select count(*) from ${table}; select 'after-ok'`),
    );
    const after = follow.outcomes.flatMap((o) => (o.ok ? o.rows.map((r) => r[0] ?? '') : [o.code]));
    return { ...result, after: [...after, follow.status] };
  }

  // The raw client speaks cleartext, md5 or trust, so directly it logs in as the (trusted) superuser.
  const directRaw = (): Endpoint => ({ ...env.direct, user: info.superuser, password: '' });

  it('returns 1,000 results in order and commits them', async () => {
    const gateway = await rawBatch(env.gateway, await freshTable('raw_ok_gw', 'clean'));
    const direct = await rawBatch(directRaw(), await freshTable('raw_ok_direct', 'clean'));
    expect(gateway).toEqual(direct);
    expect(gateway.readyCount).toBe(1);
    expect(gateway.status).toBe('I');
    expect(gateway.outcomes).toEqual(
      range(1, COUNT).map((i) => ({ ok: true, rows: [[String(i)]], tag: 'INSERT 0 1' })),
    );
    expect(gateway.after).toEqual([String(COUNT), 'after-ok', 'I']);
  });

  it('stops at the failing statement 500, rolls back, and stays in sync', async () => {
    const gateway = await rawBatch(env.gateway, await freshTable('raw_err_gw', 'fail-at-500'));
    const direct = await rawBatch(directRaw(), await freshTable('raw_err_direct', 'fail-at-500'));
    expect(gateway).toEqual(direct);
    expect(gateway.readyCount).toBe(1);
    expect(gateway.status).toBe('I');
    // 499 results, then the error; PostgreSQL skips 501..1000 without a message until Sync.
    expect(gateway.outcomes).toEqual([
      ...range(1, FAIL_AT - 1).map((i) => ({ ok: true, rows: [[String(i)]], tag: 'INSERT 0 1' })),
      { ok: false, code: '23514' },
    ]);
    expect(gateway.after).toEqual(['0', 'after-ok', 'I']);
  });
});
