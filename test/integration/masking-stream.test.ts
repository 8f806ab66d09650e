// Masking a large result as it streams: thousands of rows reach the gateway in many chunks, rows
// cut at arbitrary points, with multi-byte values and NULLs in masked and unmasked columns. Every row must
// equal the unmasked row with each method applied, in the simple and the extended protocol, and no secret
// may reach the client's bytes.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMasker, type MaskMethod } from '../../proxy/filter/mask-methods.js';
import { startGateway, TEST_USERS, type TestGateway } from '../harness/gateway.js';
import { createTestPolicy, type TestPolicy } from '../harness/policy.js';
import { startTap, type Tap } from '../harness/tap.js';

const info = inject('pg');
// Under the template's max_rows guardrail (10,000), about a megabyte on the wire.
const ROWS = 8_000;
const MASKS: Readonly<Record<string, MaskMethod>> = {
  email: 'email',
  ssn: 'redact',
  phone: 'partial',
};
let policy: TestPolicy;
let gw: TestGateway;
let tap: Tap;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ host: info.host, port: info.port, user: 'postgres', database: 'app' });
  await admin.connect();
  // Lengths vary row by row (repeat counts), so rows straddle chunk boundaries at every kind of offset;
  // some masked values grow (short e-mails, empty SSNs), most shrink.
  await admin.query(`
    drop table if exists mask_stream;
    create table mask_stream (id int primary key, name text, email text, ssn text, phone varchar(60), note text);
    insert into mask_stream
      select i,
             case when i % 19 = 0 then null else 'Zoë ' || repeat('ß', i % 9) || i end,
             case when i % 11 = 0 then null
                  when i % 13 = 0 then 'no-at-sign-' || i
                  when i % 29 = 0 then 'x@y' || (i % 3) || '.de'
                  else 'u' || i || '@bücher' || (i % 7) || '.de' end,
             case when i % 17 = 0 then null
                  when i % 31 = 0 then ''
                  else '078-05-' || lpad(i::text, 6, '0') end,
             case when i % 23 = 0 then null else '€' || repeat('𝄞', i % 5) || lpad(i::text, 6, '0') end,
             md5(i::text) || repeat('ü', i % 40)
      from generate_series(1, ${ROWS}) as i;
    analyze mask_stream;
    grant all on mask_stream to ${info.scramUser};
  `);
  policy = await createTestPolicy({
    grants: [
      {
        id: 'agent-stream',
        subject: { sub: 'svc-agent' },
        objects: [{ table: 'mask_stream', actions: ['select'] }],
      },
    ],
    data: {
      'masking.json': {
        masking: Object.fromEntries(
          Object.entries(MASKS).map(([column, method]) => [`public.mask_stream.${column}`, method]),
        ),
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
  await admin?.query('drop table if exists mask_stream');
  await admin?.end();
});

type Row = Record<string, string | number | null>;

/** The unmasked rows with each masked column's method applied as text (the reference semantics). */
async function expectedRows(): Promise<Row[]> {
  const masker = createMasker(Buffer.from('unused: no hash column'));
  const { rows } = await admin.query<Row>('select * from mask_stream order by id');
  return rows.map((row) => {
    const out: Row = { ...row };
    for (const [column, method] of Object.entries(MASKS)) {
      const value = row[column];
      out[column] = typeof value === 'string' ? masker.mask(method, value, 25) : null;
    }
    return out;
  });
}

describe('a large masked result, streamed', () => {
  let want: Row[];
  beforeAll(async () => {
    want = await expectedRows();
  });

  it.each([
    ['simple', 'select * from mask_stream order by id', []],
    ['extended', 'select * from mask_stream where id > $1 order by id', [0]],
  ])('%s protocol: every row masked exactly, no secret on the wire', async (_mode, sql, params) => {
    const u = TEST_USERS.agent;
    const client = new pg.Client({
      connectionString: `postgres://${u.name}:${u.password}@127.0.0.1:${tap.port}/app`,
    });
    await client.connect();
    try {
      tap.reset();
      const { rows } = await client.query<Row>(sql, params);
      expect(rows).toHaveLength(ROWS);
      expect(rows).toEqual(want);
      expect(rows[1]).toEqual({
        id: 2,
        name: 'Zoë ßß2',
        email: '***@bücher2.de',
        ssn: '[redacted]',
        phone: '****0002',
        note: `${'c81e728d9d4c2f636f067f89cc14862c'}${'ü'.repeat(2)}`,
      });
      const wire = tap.received().toString('utf8');
      expect(wire).not.toMatch(/078-05-\d/);
      expect(wire).not.toMatch(/u\d+@/);
      expect(wire).not.toContain('no-at-sign-');
      expect(wire).not.toContain('𝄞');
    } finally {
      await client.end();
    }
  });
});
