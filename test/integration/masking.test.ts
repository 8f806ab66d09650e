// Masking end to end: secrets in a real table never reach the client's bytes, whatever the statement shape
// or result format, while unmasked columns keep their exact values.
import { execFile } from 'node:child_process';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, TEST_USERS, type TestGateway } from '../harness/gateway.js';
import { createTestPolicy, type TestPolicy } from '../harness/policy.js';
import { startTap, type Tap } from '../harness/tap.js';

const info = inject('pg');
const SECRETS = {
  ssn: ['078-05-1120', '219-09-9999'],
  email: ['ada.lovelace@analytical.example', 'grace.hopper@navy.example'],
  phone: ['+44 20 7946 0958', '+1 202 555 0143'],
  dob: ['1815-12-10', '1906-12-09'],
};
let policy: TestPolicy;
let gw: TestGateway;
let tap: Tap;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ host: info.host, port: info.port, user: 'postgres', database: 'app' });
  await admin.connect();
  await admin.query(`
    drop table if exists mask_customers;
    create table mask_customers (id int primary key, name text, email text, ssn text, phone varchar(40), dob date, score int);
    insert into mask_customers values
      (1, 'Ada', '${SECRETS.email[0]}', '${SECRETS.ssn[0]}', '${SECRETS.phone[0]}', '${SECRETS.dob[0]}', 90),
      (2, 'Grace', '${SECRETS.email[1]}', '${SECRETS.ssn[1]}', '${SECRETS.phone[1]}', '${SECRETS.dob[1]}', 95);
    grant all on mask_customers to ${info.scramUser};
  `);
  policy = await createTestPolicy({
    grants: [
      {
        id: 'agent-customers',
        subject: { sub: 'svc-agent' },
        objects: [{ table: 'mask_customers', actions: ['select', 'copy'] }],
      },
    ],
    data: {
      'masking.json': {
        masking: {
          'public.mask_customers.email': 'email',
          'public.mask_customers.ssn': 'redact',
          'public.mask_customers.phone': 'partial',
          'public.mask_customers.dob': 'null',
        },
      },
    },
  });
  gw = await startGateway(info, { config: { policy: { bundle_dir: policy.bundleDir } } });
  tap = await startTap(gw.port);
}, 120_000);

afterAll(async () => {
  await tap?.[Symbol.asyncDispose]();
  await gw?.[Symbol.asyncDispose]();
  await policy?.[Symbol.asyncDispose]();
  await admin?.end();
});

const url = () => {
  const u = TEST_USERS.agent;
  return `postgres://${u.name}:${u.password}@127.0.0.1:${tap.port}/app`;
};

function expectNoSecrets(bytes: Buffer): void {
  const text = bytes.toString('latin1');
  for (const values of Object.values(SECRETS))
    for (const v of values) expect(text).not.toContain(v);
  // the digits of the SSNs must not appear in any shape either
  expect(text).not.toContain('078051120');
  expect(text).not.toContain('2190999');
}

function psql(sql: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      '/usr/bin/psql',
      ['-X', '-v', 'ON_ERROR_STOP=1', '-c', sql, url()],
      { encoding: 'buffer', env: { ...process.env, PGSSLMODE: 'disable' } },
      (err, stdout, stderr) => (err ? reject(new Error(String(stderr))) : resolve(stdout)),
    );
  });
}

describe('COPY TO STDOUT is masked like rows', () => {
  it('text format, whole table', async () => {
    tap.reset();
    const out = (await psql('copy mask_customers to stdout')).toString();
    expectNoSecrets(tap.received());
    const lines = out.trim().split('\n').sort();
    expect(lines[0]!.split('\t')).toEqual([
      '1',
      'Ada',
      '***@analytical.example',
      '[redacted]',
      '****0958',
      '\\N',
      '90',
    ]);
  });

  it('CSV with header and a column list, and COPY (query)', async () => {
    tap.reset();
    const csv = (
      await psql('copy mask_customers (id, ssn, email) to stdout with (format csv, header true)')
    ).toString();
    expect(csv.split('\n')[0]).toBe('id,ssn,email');
    expect(csv).toContain('1,"[redacted]","***@analytical.example"');
    const query = (
      await psql(
        "copy (select name, ssn as x, 'k' || email from mask_customers order by id) to stdout",
      )
    ).toString();
    expect(query.split('\n')[0]).toBe('Ada\t[redacted]\t[redacted]');
    expectNoSecrets(tap.received());
  });

  it('binary format: masked fields become NULL', async () => {
    tap.reset();
    const bin = await psql('copy mask_customers to stdout (format binary)');
    expect(bin.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
    expectNoSecrets(tap.received());
    expect(bin.toString('latin1')).toContain('Ada');
  });
});

describe('masking by column origin', () => {
  it('masks direct, aliased, subquery and CTE references; keeps unmasked values exact (node-postgres)', async () => {
    const c = new pg.Client({ connectionString: url() });
    await c.connect();
    tap.reset();
    const direct = await c.query(
      'select id, name, email, ssn, phone, dob, score from mask_customers order by id',
    );
    expect(direct.rows[0]).toEqual({
      id: 1,
      name: 'Ada',
      email: '***@analytical.example',
      ssn: '[redacted]',
      phone: '****0958',
      dob: null,
      score: 90,
    });
    const aliased = await c.query('select ssn as x, email as "E" from mask_customers where id = 2');
    expect(aliased.rows[0]).toEqual({ x: '[redacted]', E: '***@navy.example' });
    const sub = await c.query('select s.x from (select ssn as x from mask_customers) s');
    expect(sub.rows.map((r) => r.x)).toEqual(['[redacted]', '[redacted]']);
    const cte = await c.query(
      'with c as (select ssn, name from mask_customers) select name, ssn from c order by name',
    );
    expect(cte.rows).toEqual([
      { name: 'Ada', ssn: '[redacted]' },
      { name: 'Grace', ssn: '[redacted]' },
    ]);
    const extended = await c.query('select ssn, name from mask_customers where id = $1', [1]);
    expect(extended.rows).toEqual([{ ssn: '[redacted]', name: 'Ada' }]);
    const derived = await c.query(
      "select upper(ssn) as u, ssn || '' as cat, length(ssn) as n from mask_customers",
    );
    for (const r of derived.rows) {
      expect(r.u).toBe('[redacted]');
      expect(r.cat).toBe('[redacted]');
      expect(r.n).toBeNull();
    }
    await c.end();
    expectNoSecrets(tap.received());
  });

  it('masks binary-format results with type-correct values (postgres.js)', async () => {
    tap.reset();
    const sql = postgres(url(), { max: 1 });
    const rows = await sql`select id, ssn, dob, email, score from mask_customers where id = ${1}`;
    expect(rows[0]).toEqual({
      id: 1,
      ssn: '[redacted]',
      dob: null,
      email: '***@analytical.example',
      score: 90,
    });
    await sql.end();
    expectNoSecrets(tap.received());
  });

  it('masks again correctly after DDL renames a column (origin cache invalidated)', async () => {
    await admin.query('alter table mask_customers rename column score to points');
    const c = new pg.Client({ connectionString: url() });
    await c.connect();
    tap.reset();
    const r = await c.query('select points, ssn from mask_customers where id = 1');
    expect(r.rows[0]).toEqual({ points: 90, ssn: '[redacted]' });
    await c.end();
    expectNoSecrets(tap.received());
    await admin.query('alter table mask_customers rename column points to score');
  });
});
