// Regression: inference protection missed predicates that compare outputs instead of naming a
// column in WHERE. `SELECT ssn FROM customers INTERSECT SELECT '078-05-1120'` answered one row
// (masked, but its presence told the SSN exists), and so did EXCEPT, UNION (row counts) and plain
// DISTINCT (`SELECT DISTINCT ssn = '...'` answered two rows exactly when one matched). The analyzer
// now reports the outputs these compare as predicate columns, so they are refused like GROUP BY.
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { type MaskingTableEnv, startMaskingTable } from '../harness/masking-table/fixture.js';

let env: MaskingTableEnv;
let client: pg.Client;

beforeAll(async () => {
  env = await startMaskingTable(inject('pg'), 'reg_masking_compared');
  client = new pg.Client({ ...env.gateway });
  await client.connect();
}, 120_000);

afterAll(async () => {
  await client?.end();
  await env?.[Symbol.asyncDispose]();
});

it.each([
  "SELECT ssn FROM customers INTERSECT SELECT '078-05-1120'",
  "SELECT ssn FROM customers EXCEPT SELECT '078-05-1120'",
  "SELECT ssn FROM customers UNION SELECT '078-05-1120'",
  "SELECT DISTINCT ssn = '078-05-1120' FROM customers",
  'SELECT DISTINCT * FROM customers',
])('%s is refused (masking.inference)', async (sql) => {
  const e = (await client.query(sql).then(
    () => ({}),
    (x: unknown) => x,
  )) as { code?: string; message?: string };
  expect(e.code).toBe('42501');
  expect(e.message).toMatch(/\(rule masking\.inference\)$/);
});

it('UNION ALL and DISTINCT over unmasked outputs still run', async () => {
  const plain = await client.query("SELECT ssn FROM customers UNION ALL SELECT '078-05-1120'");
  expect(plain.rows.map((r) => r.ssn)).toEqual(Array(4).fill('[redacted]'));
  const distinct = await client.query(
    'SELECT DISTINCT score > 90 AS high FROM customers ORDER BY 1',
  );
  expect(distinct.rows.map((r) => r.high)).toEqual([false, true, null]);
});
