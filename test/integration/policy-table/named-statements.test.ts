// The gateway judges an Execute by what it believes a named statement holds; these tests put that
// belief next to what PostgreSQL holds after messages it refused or skipped, after a search_path
// change, and before the decision is made. A statement the policy refuses outright is refused at Parse,
// so these tests hold a statement that passes at Parse and is refused at Execute: a DELETE above the
// row-estimate limit, which only the bound execution can be judged on.
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
const big = async () => Number((await env.admin.query('SELECT count(*) FROM big')).rows[0].count);
const WIDE_DELETE = 'DELETE FROM big WHERE id > 0';

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
  it('a refused re-Parse of an existing name does not replace it (42P05 from PostgreSQL)', async () => {
    await using c = await connectSteps(env.endpoint('strict', 'agent'));
    // PostgreSQL now holds `dup` = the wide DELETE (allowed at Parse, refused at Execute).
    await batch(c, serialize.parse({ name: 'dup', text: WIDE_DELETE }));
    // PostgreSQL refuses to redefine `dup`; the gateway must keep believing the DELETE.
    const again = await batch(c, serialize.parse({ name: 'dup', text: 'SELECT 1' }));
    expect(errorsOf(again)).toEqual([{ code: '42P05', rule: null }]);
    const result = await run(c, 'dup');
    expect(errorsOf(result)).toEqual([{ code: '42501', rule: 'guardrail.explain_rows' }]);
    expect(await big()).toBe(5000);
  });

  it('messages PostgreSQL skips after an error (Close, Parse) do not change the gateway view', async () => {
    await using c = await connectSteps(env.endpoint('strict', 'agent'));
    await batch(c, serialize.parse({ name: 'swap', text: WIDE_DELETE }));
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
    expect(errorsOf(result)).toEqual([{ code: '42501', rule: 'guardrail.explain_rows' }]);
    expect(await big()).toBe(5000);
  });

  it('a Parse that PostgreSQL accepts is what the next Execute is judged as', async () => {
    await using c = await connectSteps(env.endpoint('strict', 'agent'));
    await batch(c, serialize.parse({ name: 'del', text: WIDE_DELETE }));
    expect(errorsOf(await run(c, 'del'))).toEqual([
      { code: '42501', rule: 'guardrail.explain_rows' },
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

  it('a named statement re-parsed by PostgreSQL under a new search_path is judged anew', async () => {
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

describe('the same text parsed again is judged as PostgreSQL will run it now', () => {
  const EXECUTE_Q = 'EXECUTE pt_q';
  /** Parse (unnamed) of `text`, Bind, Execute. */
  const unnamed = (c: StepClient, text: string) =>
    batch(c, serialize.parse({ text }), serialize.bind({}), serialize.execute());

  it('an unnamed EXECUTE of a SQL-level statement prepared anew in between', async () => {
    await using c = await connectSteps(env.endpoint('lax', 'agent'));
    expect(errorsOf(await c.query('PREPARE pt_q AS SELECT count(*) FROM orders'))).toEqual([]);
    expect(summarizeBatch(await unnamed(c, EXECUTE_Q)).outcomes).toEqual([
      { ok: true, rows: [['50']], tag: 'SELECT 1' },
    ]);
    expect(errorsOf(await c.query('DEALLOCATE pt_q'))).toEqual([]);
    expect(errorsOf(await c.query(`PREPARE pt_q AS ${WIDE_DELETE}`))).toEqual([]);
    // The same text as before, but it names another statement now.
    expect(errorsOf(await unnamed(c, EXECUTE_Q))).toEqual([
      { code: '42501', rule: 'guardrail.explain_rows' },
    ]);
    expect(await big()).toBe(5000);
  });

  it('a Parse read before a redefinition took effect is not reused for the same text after it', async () => {
    await using c = await connectSteps(env.endpoint('lax', 'agent'));
    expect(errorsOf(await c.query('PREPARE pt_r AS SELECT count(*) FROM orders'))).toEqual([]);
    // Sent together: the Parse is read while PostgreSQL has not yet redefined pt_r (it only parses).
    c.write(
      Buffer.concat([
        serialize.query(`DEALLOCATE pt_r; PREPARE pt_r AS ${WIDE_DELETE}`),
        serialize.parse({ text: 'EXECUTE pt_r' }),
        serialize.sync(),
      ]),
    );
    expect(errorsOf(await c.untilReady())).toEqual([]);
    expect(errorsOf(await c.untilReady())).toEqual([]);
    // Nothing else is read in between: the same text again must be read as pt_r is now.
    expect(errorsOf(await unnamed(c, 'EXECUTE pt_r'))).toEqual([
      { code: '42501', rule: 'guardrail.explain_rows' },
    ]);
    expect(await big()).toBe(5000);
  });

  it('an unnamed Parse of the same text after SET search_path took effect', async () => {
    await using c = await connectSteps(env.endpoint('lax', 'agent'));
    const text = 'SELECT note FROM orders WHERE id = 1';
    // Under the startup path the text reads public.orders (granted); its analysis is the last one kept.
    expect(errorsOf(await unnamed(c, text))).toEqual([]);
    // Sent together: the Parse waits for the SET in front of it and is judged under the new path, as
    // PostgreSQL parses it (`orders` is other.orders, not granted).
    c.write(
      Buffer.concat([
        serialize.query('SET search_path = other'),
        serialize.parse({ text }),
        serialize.sync(),
      ]),
    );
    expect(errorsOf(await c.untilReady())).toEqual([]);
    expect(errorsOf(await c.untilReady())).toEqual([{ code: '42501', rule: 'access.table' }]);
    // The same text again also resolves `orders` in schema other.
    expect(errorsOf(await unnamed(c, text))).toEqual([{ code: '42501', rule: 'access.table' }]);
  });
});

describe('the decision comes before PostgreSQL says anything about a refused statement', () => {
  const probe = 'SELECT no_such_column FROM secrets';

  it('over the simple protocol an ungranted table cannot be probed', async () => {
    await using c = await connectSteps(env.endpoint('strict', 'agent'));
    expect(errorsOf(await c.query(probe))).toEqual([{ code: '42501', rule: 'access.table' }]);
  });

  it('over the extended protocol the Parse error does not reveal the ungranted table', async () => {
    await using c = await connectSteps(env.endpoint('strict', 'agent'));
    const result = await batch(
      c,
      serialize.parse({ text: probe }),
      serialize.bind({}),
      serialize.execute(),
    );
    // Judged at Parse: the server's 42703 would tell that the table exists and enumerate its columns.
    expect(errorsOf(result)).toEqual([{ code: '42501', rule: 'access.table' }]);
  });
});
