// The statement gate end to end: real bundle, real PostgreSQL, node-postgres and postgres.js.
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StatementDone } from '../../proxy/session/requests.js';
import { startGateway, type TestGateway } from '../harness/gateway.js';
import { createTestPolicy, type TestPolicy } from '../harness/policy.js';

const info = inject('pg');
let policy: TestPolicy;
let gw: TestGateway;
let admin: pg.Client;
const done: { session: string; done: StatementDone }[] = [];
const sessionsClosed: string[] = [];

beforeAll(async () => {
  admin = new pg.Client({ host: info.host, port: info.port, user: 'postgres', database: 'app' });
  await admin.connect();
  await admin.query(`
    drop table if exists gate_orders, gate_secrets, gate_big;
    create table gate_big (id int primary key, v text);
    insert into gate_big select g, 'v' || g from generate_series(1, 5000) g;
    analyze gate_big;
    create table gate_orders (id int primary key, customer text, total numeric);
    create table gate_secrets (id int primary key, v text);
    insert into gate_orders select g, 'c' || g, g * 10 from generate_series(1, 20) g;
    insert into gate_secrets values (1, 'top');
    grant all on gate_orders, gate_secrets, gate_big to ${info.scramUser};
  `);
  policy = await createTestPolicy({
    grants: [
      {
        id: 'agent-orders',
        subject: { sub: 'svc-agent' },
        objects: [
          { table: 'gate_orders', actions: ['select', 'insert', 'update', 'delete'] },
          { table: 'gate_big', actions: ['select', 'update', 'delete'] },
        ],
      },
    ],
  });
  gw = await startGateway(info, {
    config: { policy: { bundle_dir: policy.bundleDir } },
    observer: {
      statementDone: (session, d) => done.push({ session: session.id, done: d }),
      sessionClosed: (session) => sessionsClosed.push(session.id),
    },
  });
}, 120_000);

afterAll(async () => {
  await gw?.[Symbol.asyncDispose]();
  await policy?.[Symbol.asyncDispose]();
  await admin?.end();
});

const count = async () =>
  Number((await admin.query('select count(*) from gate_orders')).rows[0].count);

describe('statement gate (simple protocol)', () => {
  it('allows a granted SELECT and refuses an ungranted table with 42501 naming the rule', async () => {
    const c = new pg.Client({ connectionString: gw.url() });
    await c.connect();
    expect((await c.query('select count(*)::int as n from gate_orders')).rows[0].n).toBe(20);
    const err = await c.query('select * from gate_secrets').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '42501' });
    expect(String((err as Error).message)).toMatch(/rule [a-z_.]+/);
    // the session stays usable
    expect((await c.query('select 1 as x')).rows[0].x).toBe(1);
    await c.end();
  });

  it('refuses DELETE without WHERE and DROP TABLE, and neither has any effect', async () => {
    const c = new pg.Client({ connectionString: gw.url() });
    await c.connect();
    await expect(c.query('delete from gate_orders')).rejects.toMatchObject({ code: '42501' });
    await expect(c.query('drop table gate_orders')).rejects.toMatchObject({ code: '42501' });
    expect(await count()).toBe(20);
    await c.end();
  });

  it('runs none of a multi-statement query when one statement is denied', async () => {
    const c = new pg.Client({ connectionString: gw.url() });
    await c.connect();
    await expect(
      c.query("insert into gate_orders values (100, 'x', 1); delete from gate_orders"),
    ).rejects.toMatchObject({ code: '42501' });
    expect(await count()).toBe(20);
    await c.end();
  });

  it('aborts an open transaction on a denial, exactly as a failed statement would', async () => {
    const c = new pg.Client({ connectionString: gw.url() });
    await c.connect();
    await c.query('begin');
    await c.query("insert into gate_orders values (101, 'y', 1)");
    await expect(c.query('select * from gate_secrets')).rejects.toMatchObject({ code: '42501' });
    await expect(c.query('select 1')).rejects.toMatchObject({ code: '25P02' });
    await c.query('rollback');
    expect(await count()).toBe(20);
    await c.end();
  });
});

describe('statement gate (extended protocol, pipelined)', () => {
  it('denies mid-pipeline, discards to Sync like PostgreSQL, and stays in sync', async () => {
    const sql = postgres(gw.url(), { max: 1, onnotice: () => {} });
    const results = await Promise.allSettled([
      sql`select ${1}::int as a from gate_orders limit 1`,
      sql`select * from gate_secrets where id = ${1}`,
      sql`select ${3}::int as c from gate_orders limit 1`,
    ]);
    expect(results[0]).toMatchObject({ status: 'fulfilled' });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: '42501' } });
    expect(results[2]).toMatchObject({ status: 'fulfilled', value: [{ c: 3 }] });
    const [row] = await sql`select count(*)::int as n from gate_orders where id = ${5}`;
    expect(row?.n).toBe(1);
    await sql.end();
  });

  it('denies a prepared DELETE without WHERE at Execute and keeps the rows', async () => {
    const c = new pg.Client({ connectionString: gw.url() });
    await c.connect();
    await expect(
      c.query({ text: 'delete from gate_orders', values: [], name: 'del_all' }),
    ).rejects.toMatchObject({
      code: '42501',
    });
    const r = await c.query({
      text: 'select count(*)::int as n from gate_orders where id > $1',
      values: [0],
    });
    expect(r.rows[0].n).toBe(20);
    await c.end();
  });
});

describe('statement records for audit', () => {
  it('reports every request with its outcome, command tags, rows and SQLSTATE, in order', async () => {
    done.length = 0;
    const c = new pg.Client({ connectionString: gw.url() });
    await c.connect();
    await c.query('select id from gate_orders where id <= 3');
    await c.query('select * from gate_secrets').catch(() => undefined);
    await c.query("update gate_orders set customer = 'z' where id = 1; select 1");
    await c.query({ text: 'select id from gate_orders where id = $1', values: [2] });
    await c.query('select * from no_such_table').catch(() => undefined);
    await c.end();
    // node-postgres settles a failed query at its ErrorResponse and may close before the
    // ReadyForQuery: the record of that last statement is then written when the session ends.
    const session = done[0]!.session;
    await expect.poll(() => sessionsClosed.includes(session)).toBe(true);
    const mine = done.map((d) => d.done);
    expect(mine.map((d) => d.event?.verdict.outcome)).toEqual([
      'allowed',
      'blocked',
      'allowed',
      'allowed',
      'blocked',
    ]);
    expect(mine[0]!.results).toEqual([{ tag: 'SELECT 3', rows: 3, sqlstate: null }]);
    expect(mine[1]!.results).toEqual([{ tag: null, rows: null, sqlstate: '42501' }]);
    expect(mine[2]!.results.map((r) => r.tag)).toEqual(['UPDATE 1', 'SELECT 1']);
    expect(mine[3]!.event?.protocol).toBe('extended');
    expect(mine[3]!.results).toEqual([{ tag: 'SELECT 1', rows: 1, sqlstate: null }]);
    for (const d of mine) expect(d.durationMs).toBeGreaterThanOrEqual(0);
    expect(new Set(done.map((d) => d.session)).size).toBe(1);
  });
});

describe('row-estimate guardrail (EXPLAIN upstream)', () => {
  const big = async () =>
    Number((await admin.query('select count(*) from gate_big')).rows[0].count);

  it('refuses a DELETE estimated above the limit and runs one below it (simple protocol)', async () => {
    const c = new pg.Client({ connectionString: gw.url() });
    await c.connect();
    const err = await c.query('delete from gate_big where id > 0').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '42501' });
    expect(String((err as Error).message)).toMatch(/guardrail\.explain_rows/);
    expect(String((err as Error).message)).toMatch(/estimated to touch \d+ rows/);
    expect(await big()).toBe(5000);
    const ok = await c.query('delete from gate_big where id = 5000');
    expect(ok.rowCount).toBe(1);
    expect(await big()).toBe(4999);
    await c.end();
  });

  it('judges each estimate afresh for statements of one shape (decision cache)', async () => {
    const c = new pg.Client({ connectionString: gw.url() });
    await c.connect();
    // Literal variants share the decision cache's key; the estimate is part of it.
    expect((await c.query('update gate_big set v = v where id > 4995')).rowCount).toBe(4);
    const err = await c.query('update gate_big set v = v where id > 1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '42501' });
    expect(String((err as Error).message)).toMatch(/guardrail\.explain_rows/);
    expect((await c.query('update gate_big set v = v where id > 4996')).rowCount).toBe(3);
    await c.end();
  });

  it('uses the bound parameters in the extended protocol', async () => {
    const c = new pg.Client({ connectionString: gw.url() });
    await c.connect();
    await expect(
      c.query('update gate_big set v = $2 where id > $1', [0, 'x']),
    ).rejects.toMatchObject({
      code: '42501',
    });
    const ok = await c.query('update gate_big set v = $2 where id > $1', [4990, 'y']);
    expect(ok.rowCount).toBe(9);
    expect((await c.query('select 1 as one')).rows[0].one).toBe(1);
    await c.end();
  });
});

describe('fail closed', () => {
  it('refuses every statement while the audit trail cannot take records (fail-closed audit)', async () => {
    let admitting = false;
    await using closed = await startGateway(info, {
      config: { policy: { bundle_dir: policy.bundleDir } },
      admit: () => admitting,
    });
    const c = new pg.Client({ connectionString: closed.url() });
    await c.connect();
    const err = await c.query('select count(*) from gate_orders').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '42501' });
    expect(String((err as Error).message)).toMatch(/rule audit\.unavailable/);
    admitting = true;
    expect((await c.query('select count(*)::int as n from gate_orders')).rows[0].n).toBe(20);
    await c.end();
  });

  it('refuses to start without a valid bundle', async () => {
    await expect(
      startGateway(info, { config: { policy: { bundle_dir: '/nonexistent/bundle' } } }),
    ).rejects.toThrow(/policy bundle/);
  });
});
