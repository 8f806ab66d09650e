// Regression: PostgreSQL quotes values in error text. `SELECT ssn::int` failed with
// `invalid input syntax for type integer: "078-05-1120"`, and `UPDATE customers SET name = NULL`
// (which reads no masked column) with the DETAIL `Failing row contains (..., 078-05-1120, ...)`:
// both reached the client verbatim. Now a masked statement's error text is withheld and no
// constraint violation shows its failing row or key values.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withheldMessage } from '../../proxy/filter/error-masker.js';
import { type MaskingTableEnv, startMaskingTable } from '../harness/masking-table/fixture.js';
import { leaks } from '../harness/masking-table/secrets.js';

let env: MaskingTableEnv;
let client: pg.Client;

beforeAll(async () => {
  env = await startMaskingTable(inject('pg'), 'reg_masking_errors');
  client = new pg.Client({ ...env.gateway });
  await client.connect();
}, 120_000);

afterAll(async () => {
  await client?.end();
  await env?.[Symbol.asyncDispose]();
});

interface Failure {
  code?: string;
  message?: string;
  detail?: string;
  table?: string;
  column?: string;
  constraint?: string;
}

async function failure(sql: string): Promise<Failure> {
  env.tap.reset();
  const error = (await client.query(sql).then(
    () => ({}),
    (e: unknown) => e,
  )) as Failure;
  expect(leaks(env.tap.received()), sql).toEqual([]);
  return error;
}

describe('error text of statements that read masked columns', () => {
  it.each([
    ['SELECT ssn::int FROM customers', '22P02'],
    ['SELECT notes::json FROM customers ORDER BY id', '22P02'],
    ['SELECT to_date(ssn, $$YYYY-MM-DD$$) FROM customers', '22008'],
    ['SELECT 1 FROM customers WHERE id = 1 AND card_number::numeric > 0', '22P02'],
  ])('%s fails with %s and no quoted value', async (sql, code) => {
    const e = await failure(sql);
    expect(e).toMatchObject({ code, message: withheldMessage(code) });
    expect(e.detail).toBeUndefined();
  });

  it('keeps the text of errors raised before any row is read', async () => {
    const e = await failure('SELECT sn FROM customers');
    expect(e).toMatchObject({ code: '42703', message: 'column "sn" does not exist' });
  });
});

describe('constraint violations', () => {
  it('a NOT NULL violation keeps its message and names, not the failing row', async () => {
    const e = await failure('UPDATE customers SET name = NULL WHERE id = 1');
    expect(e).toMatchObject({
      code: '23502',
      message: 'null value in column "name" of relation "customers" violates not-null constraint',
      table: 'customers',
      column: 'name',
    });
    expect(e.detail).toBeUndefined();
  });

  it('a unique violation fed by a masked column shows neither the key nor its text', async () => {
    const e = await failure(
      'UPDATE customers SET ssn = (SELECT ssn FROM customers WHERE id = 2) WHERE id = 1',
    );
    expect(e).toMatchObject({ code: '23505', constraint: 'customers_ssn_key' });
    expect(e.detail).toBeUndefined();
  });

  it('the session goes on', async () => {
    const r = await client.query('SELECT name, ssn FROM customers WHERE id = 1');
    expect(r.rows).toEqual([{ name: 'Ada Lovelace', ssn: '[redacted]' }]);
  });
});
