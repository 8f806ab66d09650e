// The gateway judges an Execute by what it believes a named statement holds; these tests put that
// belief next to what PostgreSQL holds after messages it refused or skipped, after a search_path
// change, and before the decision is made. Each `it.fails` is a confirmed gateway bug (see the report
// in the test name); its expectation is the correct behaviour.
import { serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { summarizeBatch } from '../../harness/drivers/raw-client.js';
import { ruleOf } from '../../harness/policy-table/expect-row.js';
import { type PolicyTableEnv, startPolicyTable } from '../../harness/policy-table/fixture.js';
import { connectSteps, errorOf, type StepClient } from '../../harness/policy-table/wire-steps.js';

let env: PolicyTableEnv;
let pristine: string;

beforeAll(async () => {
  env = await startPolicyTable(inject('pg'), 'pgw_table_named');
  pristine = await env.fingerprint();
});

afterAll(async () => {
  await env?.[Symbol.asyncDispose]();
});

afterEach(async () => {
  if ((await env.fingerprint()) !== pristine) await env.reset();
});

const orders = async () =>
  Number((await env.admin.query('SELECT count(*) FROM orders')).rows[0].count);

/** Sends messages then Sync; returns every answer up to ReadyForQuery. */
function batch(c: StepClient, ...messages: Buffer[]): Promise<BackendMessage[]> {
  c.write(Buffer.concat([...messages, serialize.sync()]));
  return c.untilReady();
}

const errorsOf = (messages: BackendMessage[]) =>
  messages.flatMap((m) => {
    const e = errorOf(m);
    return e === null ? [] : [{ code: e.code, rule: ruleOf(e.message) }];
  });

/** Bind the named statement to the unnamed portal and Execute it. */
const run = (c: StepClient, name: string) =>
  batch(c, serialize.bind({ statement: name }), serialize.execute());

describe('named statements: the gateway must judge what PostgreSQL will run', () => {
  it.fails('a refused re-Parse of an existing name does not replace it (42P05 from PostgreSQL)', async () => {
    await using c = await connectSteps(env.endpoint('strict', 'agent'));
    // Parse is never judged: PostgreSQL now holds `dup` = DELETE FROM orders.
    await batch(c, serialize.parse({ name: 'dup', text: 'DELETE FROM orders' }));
    // PostgreSQL refuses to redefine `dup`; the gateway records `dup` = SELECT 1 anyway.
    const again = await batch(c, serialize.parse({ name: 'dup', text: 'SELECT 1' }));
    expect(errorsOf(again)).toEqual([{ code: '42P05', rule: null }]);
    const result = await run(c, 'dup');
    expect(errorsOf(result)).toEqual([{ code: '42501', rule: 'guardrail.unbounded_delete' }]);
    expect(await orders()).toBe(50);
  });

  it.fails('messages PostgreSQL skips after an error (Close, Parse) do not change the gateway view', async () => {
    await using c = await connectSteps(env.endpoint('strict', 'agent'));
    await batch(c, serialize.parse({ name: 'swap', text: 'DELETE FROM orders' }));
    const skipped = await batch(
      c,
      serialize.parse({ text: 'SELECT 1 / 0' }),
      serialize.bind({}),
      serialize.execute(),
      serialize.close({ type: 'S', name: 'swap' }),
      serialize.parse({ name: 'swap', text: 'SELECT 1' }),
    );
    expect(errorsOf(skipped)).toEqual([{ code: '22012', rule: null }]);
    const result = await run(c, 'swap');
    expect(errorsOf(result)).toEqual([{ code: '42501', rule: 'guardrail.unbounded_delete' }]);
    expect(await orders()).toBe(50);
  });

  it('a Parse that PostgreSQL accepts is what the next Execute is judged as', async () => {
    await using c = await connectSteps(env.endpoint('strict', 'agent'));
    await batch(c, serialize.parse({ name: 'del', text: 'DELETE FROM orders' }));
    expect(errorsOf(await run(c, 'del'))).toEqual([
      { code: '42501', rule: 'guardrail.unbounded_delete' },
    ]);
    await batch(c, serialize.close({ type: 'S', name: 'del' }));
    await batch(c, serialize.parse({ name: 'del', text: 'SELECT count(*) FROM orders' }));
    expect(summarizeBatch(await run(c, 'del')).outcomes).toEqual([
      { ok: true, rows: [['50']], tag: 'SELECT 1' },
    ]);
    expect(await orders()).toBe(50);
  });
});

describe('search_path changes (lax policy, where they are allowed)', () => {
  it('an unqualified name after SET search_path is judged in the new schema', async () => {
    await using c = await connectSteps(env.endpoint('lax', 'agent'));
    expect(errorsOf(await c.query('SET search_path = other'))).toEqual([]);
    expect(errorsOf(await c.query('SELECT * FROM orders'))).toEqual([
      { code: '42501', rule: 'access.table' },
    ]);
  });

  it.fails('a named statement re-parsed by PostgreSQL under a new search_path is judged anew', async () => {
    await using c = await connectSteps(env.endpoint('lax', 'agent'));
    await batch(c, serialize.parse({ name: 'sp', text: 'SELECT note FROM orders WHERE id = 1' }));
    expect(summarizeBatch(await run(c, 'sp')).outcomes).toEqual([
      { ok: true, rows: [[null]], tag: 'SELECT 1' },
    ]);
    expect(errorsOf(await c.query('SET search_path = other'))).toEqual([]);
    // PostgreSQL re-analyses `sp` with the new search_path: it now reads other.orders.
    const result = await run(c, 'sp');
    expect(errorsOf(result)).toEqual([{ code: '42501', rule: 'access.table' }]);
  });
});

describe('the decision comes before PostgreSQL says anything about a refused statement', () => {
  const probe = 'SELECT no_such_column FROM secrets';

  it('over the simple protocol an ungranted table cannot be probed', async () => {
    await using c = await connectSteps(env.endpoint('strict', 'agent'));
    expect(errorsOf(await c.query(probe))).toEqual([{ code: '42501', rule: 'access.table' }]);
  });

  it.fails('over the extended protocol the Parse error does not reveal the ungranted table', async () => {
    await using c = await connectSteps(env.endpoint('strict', 'agent'));
    const result = await batch(
      c,
      serialize.parse({ text: probe }),
      serialize.bind({}),
      serialize.execute(),
    );
    // Actual: 42703 column "no_such_column" does not exist, so the table exists and its columns can
    // be enumerated by an identity with no grant on it.
    expect(errorsOf(result)).toEqual([{ code: '42501', rule: 'access.table' }]);
  });
});
