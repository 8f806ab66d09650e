// Regression: column origins were cached per relation until DDL passed through the gateway. After a
// superuser swapped two column names on a direct connection, `SELECT ssn` was masked by the old
// layout (attribute 2 was still "name") and sent the SSNs in clear; COPY of the whole table used a
// cached column list the same way. Now a RowDescription that contradicts the cache reloads it, and
// COPY reads the table's columns afresh.
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { pgCopyTo } from '../harness/drivers/pg-copy.js';
import { type MaskingTableEnv, startMaskingTable } from '../harness/masking-table/fixture.js';
import { leaks } from '../harness/masking-table/secrets.js';

let env: MaskingTableEnv;

beforeAll(async () => {
  env = await startMaskingTable(inject('pg'), 'reg_masking_stale');
}, 120_000);

afterAll(async () => {
  await env?.[Symbol.asyncDispose]();
});

it('masks by the current layout after DDL the gateway never saw', async () => {
  const client = new pg.Client({ ...env.gateway });
  await client.connect();
  try {
    const chunks: Buffer[] = [];
    await client.query('SELECT id, name, ssn FROM customers');
    await pgCopyTo(client, 'COPY customers TO STDOUT', () => undefined);
    await env.admin.query(`
      ALTER TABLE customers RENAME COLUMN ssn TO ssn_old;
      ALTER TABLE customers RENAME COLUMN name TO ssn;
      UPDATE customers SET ssn = ssn_old, ssn_old = 'moved-' || id;`);
    env.tap.reset();
    const r = await client.query('SELECT id, ssn FROM customers ORDER BY id');
    expect(r.rows.map((x) => x.ssn)).toEqual(['[redacted]', '[redacted]', '[redacted]']);
    await pgCopyTo(client, 'COPY customers TO STDOUT', (c) => chunks.push(Buffer.from(c)));
    const second = Buffer.concat(chunks)
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => line.split('\t')[1]);
    expect(second).toEqual(['[redacted]', '[redacted]', '[redacted]']);
    expect(leaks(env.tap.received())).toEqual([]);
  } finally {
    await client.end();
  }
});
