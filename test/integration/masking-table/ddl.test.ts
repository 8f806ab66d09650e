// DDL behind the gateway's back (a superuser on a direct connection) changes which attribute holds
// which column: the gateway's cached column origins must not keep masking by the old layout. Each
// case leaves the secrets only under masked names, so any secret on the wire is a stale-cache leak.
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { pgCopyTo } from '../../harness/drivers/pg-copy.js';
import { type MaskingTableEnv, startMaskingTable } from '../../harness/masking-table/fixture.js';
import { CUSTOMERS, leaks } from '../../harness/masking-table/secrets.js';

let env: MaskingTableEnv;
let client: pg.Client;

beforeAll(async () => {
  env = await startMaskingTable(inject('pg'), 'mt_ddl');
}, 120_000);

afterAll(async () => {
  await env?.[Symbol.asyncDispose]();
});

beforeEach(async () => {
  await env.reset();
  client = new pg.Client({ ...env.gateway });
  await client.connect();
  // Loads customers' column origins into the gateway's cache before the DDL.
  await client.query('SELECT * FROM customers ORDER BY id');
  await client.query('COPY customers TO STDOUT').catch(() => undefined);
  return async () => {
    await client.end();
  };
});

const ssns = CUSTOMERS.map((c) => c.ssn);

async function copyText(sql: string): Promise<string[][]> {
  const chunks: Buffer[] = [];
  await pgCopyTo(client, sql, (c) => chunks.push(Buffer.from(c)));
  return Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

describe('DDL on a direct connection', () => {
  it('swapped column names: the column now named ssn is masked, on this session and a new one', async () => {
    await env.admin.query(`
      ALTER TABLE customers RENAME COLUMN ssn TO ssn_old;
      ALTER TABLE customers RENAME COLUMN name TO ssn;
      UPDATE customers SET ssn = ssn_old, ssn_old = 'moved-' || id;`);
    env.tap.reset();
    const named = await client.query('SELECT id, ssn FROM customers ORDER BY id');
    expect(named.rows.map((r) => r.ssn)).toEqual(['[redacted]', '[redacted]', '[redacted]']);
    const star = await client.query('SELECT * FROM customers ORDER BY id');
    expect(star.fields.map((f) => f.name)[1]).toBe('ssn');
    expect(star.rows.map((r) => r.ssn)).toEqual(['[redacted]', '[redacted]', '[redacted]']);
    expect(star.rows.map((r) => r.ssn_old)).toEqual(['moved-1', 'moved-2', 'moved-3']);
    const fresh = new pg.Client({ ...env.gateway });
    await fresh.connect();
    const again = await fresh.query('SELECT ssn AS x FROM customers ORDER BY id');
    await fresh.end();
    expect(again.rows.map((r) => r.x)).toEqual(['[redacted]', '[redacted]', '[redacted]']);
    const copied = await copyText('COPY customers TO STDOUT');
    expect(copied.map((r) => r[1])).toEqual(['[redacted]', '[redacted]', '[redacted]']);
    expect(leaks(env.tap.received())).toEqual([]);
  });

  it('a dropped and re-added column is masked with its own method', async () => {
    await env.admin.query(`
      ALTER TABLE customers DROP COLUMN email CASCADE;
      ALTER TABLE customers ADD COLUMN email text;
      ${CUSTOMERS.map((c) => `UPDATE customers SET email = '${c.email}' WHERE id = ${c.id};`).join('\n')}`);
    env.tap.reset();
    const r = await client.query('SELECT id, email FROM customers ORDER BY id');
    expect(r.rows.map((x) => x.email)).toEqual(
      CUSTOMERS.map((c) => `***${c.email.slice(c.email.indexOf('@'))}`),
    );
    const star = await client.query('SELECT * FROM customers ORDER BY id');
    expect(star.fields.at(-1)?.name).toBe('email');
    expect(star.rows[0]).toMatchObject({ email: '***@analytical.example', ssn: '[redacted]' });
    expect(leaks(env.tap.received())).toEqual([]);
  });

  it('COPY of a whole table follows a dropped and re-added unmasked column', async () => {
    await env.admin.query(`
      ALTER TABLE customers DROP COLUMN name CASCADE;
      ALTER TABLE customers ADD COLUMN name text;`);
    env.tap.reset();
    const rows = await copyText('COPY customers TO STDOUT');
    // id, score, created_at, ssn, email, phone, card_number, date_of_birth, notes, name
    expect(rows.map((r) => r[3])).toEqual(['[redacted]', '[redacted]', '[redacted]']);
    expect(rows.map((r) => r[7])).toEqual(['\\N', '\\N', '\\N']);
    expect(leaks(env.tap.received())).toEqual([]);
    expect(ssns.length).toBe(3);
  });
});
