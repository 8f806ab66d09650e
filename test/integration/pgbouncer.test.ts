// The demo scenario with PgBouncer between pgward and PostgreSQL, in session and transaction mode:
// allowed, masked, blocked, approval required and the row-estimate guardrail all still hold.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, TEST_USERS } from '../harness/gateway.js';
import { startPgbouncer } from '../harness/pgbouncer.js';
import { createTestPolicy, type TestPolicy } from '../harness/policy.js';

const info = inject('pg');
let policy: TestPolicy;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ host: info.host, port: info.port, user: 'postgres', database: 'app' });
  await admin.connect();
  await admin.query(`
    drop table if exists pb_customers, pb_orders;
    create table pb_customers (id int primary key, name text, ssn text);
    create table pb_orders (id int primary key, customer int, total int);
    insert into pb_customers values (1, 'Ada', '078-05-1120'), (2, 'Grace', '219-09-9999');
    insert into pb_orders select g, 1 + g % 2, g from generate_series(1, 3000) g;
    analyze pb_orders;
    grant all on pb_customers, pb_orders to ${info.scramUser};
  `);
  policy = await createTestPolicy({
    grants: [
      {
        id: 'agent-read',
        subject: { sub: TEST_USERS.agent.name },
        objects: [
          { table: 'pb_customers', actions: ['select'] },
          { table: 'pb_orders', actions: ['select'] },
        ],
      },
      {
        id: 'ops-write',
        subject: { group: 'ops' },
        objects: [{ table: 'pb_orders', actions: ['select', 'update', 'delete'] }],
      },
    ],
    data: { 'masking.json': { masking: { 'public.pb_customers.ssn': 'redact' } } },
  });
}, 120_000);

afterAll(async () => {
  await policy?.[Symbol.asyncDispose]();
  await admin?.end();
});

describe.each(['session', 'transaction'] as const)('PgBouncer in %s mode behind pgward', (mode) => {
  it('allows, masks, blocks and asks for approval as without a pooler', async () => {
    await using bouncer = await startPgbouncer(info, mode);
    await using gw = await startGateway(info, {
      config: {
        policy: { bundle_dir: policy.bundleDir },
        upstreams: [
          {
            name: 'app',
            host: '127.0.0.1',
            port: bouncer.port,
            database: 'app',
            user: info.scramUser,
            tls: { mode: 'disable' },
          },
        ],
      },
    });
    const agent = new pg.Client({ connectionString: gw.url('agent') });
    await agent.connect();
    expect((await agent.query('select count(*)::int as n from pb_orders')).rows[0].n).toBe(3000);
    const masked = await agent.query('select name, ssn from pb_customers where id = $1', [1]);
    expect(masked.rows).toEqual([{ name: 'Ada', ssn: '[redacted]' }]);
    await expect(agent.query('drop table pb_orders')).rejects.toMatchObject({ code: '42501' });
    // the session stays usable, and the next transaction may run on another server connection
    await agent.query('begin');
    expect((await agent.query('select count(*)::int as n from pb_customers')).rows[0].n).toBe(2);
    await agent.query('commit');
    await agent.end();

    const ops = new pg.Client({ connectionString: gw.url('ops') });
    await ops.connect();
    const approval = await ops.query('delete from pb_orders where id = 7').catch((e: unknown) => e);
    expect(approval).toMatchObject({ code: '42501' });
    expect(String((approval as { hint?: string }).hint)).toMatch(/approv/i);
    await expect(ops.query('update pb_orders set total = 0 where id > 0')).rejects.toMatchObject({
      code: '42501',
    });
    await ops.end();
    expect(
      Number((await admin.query('select count(*) from pb_orders where total = 0')).rows[0].count),
    ).toBe(0);
    expect(Number((await admin.query('select count(*) from pb_orders')).rows[0].count)).toBe(3000);
  });
});
