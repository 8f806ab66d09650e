// Statements split across extended-protocol messages: Parse, Bind and Execute each sent with Flush and
// answered before the next, through the real gateway. A statement the policy refuses is refused at
// Parse (so the server's parser never reveals what exists outside the grant) and judged again at every
// Execute; the row-estimate guardrail needs the bound parameters and decides at Execute. A refusal leaves
// the database as it was and the connection usable. The gateway's view of named statements must stay
// the one PostgreSQL holds.
import { serialize } from 'pg-protocol';
import type { BackendMessage, DataRowMessage } from 'pg-protocol/dist/messages.js';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { pipelinedBatch, summarizeBatch } from '../../harness/drivers/raw-client.js';
import { ruleOf } from '../../harness/policy-table/expect-row.js';
import { type PolicyTableEnv, startPolicyTable } from '../../harness/policy-table/fixture.js';
import type { PolicyName, RowUser } from '../../harness/policy-table/row.js';
import {
  connectSteps,
  errorOf,
  flushed,
  type StepClient,
} from '../../harness/policy-table/wire-steps.js';

let env: PolicyTableEnv;
let pristine: string;

beforeAll(async () => {
  env = await startPolicyTable(inject('pg'), 'pgw_table_wire');
  pristine = await env.fingerprint();
});

afterAll(async () => {
  await env?.[Symbol.asyncDispose]();
});

afterEach(async () => {
  if ((await env.fingerprint()) !== pristine) await env.reset();
});

const open = (user: RowUser = 'agent', policy: PolicyName = 'strict') =>
  connectSteps(env.endpoint(policy, user));

interface StepResult {
  /** The step whose answer was an error, or 'done'. */
  readonly failedAt: 'parse' | 'bind' | 'execute' | 'done';
  readonly error: ReturnType<typeof errorOf>;
  readonly rows: (string | null)[][];
  readonly tag: string | null;
  readonly status: string;
}

/** Parse, Bind and Execute, each flushed and answered before the next; then Sync. */
async function stepwise(
  c: StepClient,
  text: string,
  values: (string | null)[] = [],
  name = '',
): Promise<StepResult> {
  const rows: (string | null)[][] = [];
  let failedAt: StepResult['failedAt'] = 'done';
  let error: StepResult['error'] = null;
  let tag: string | null = null;
  const steps = [
    ['parse', serialize.parse({ name, text })],
    ['bind', serialize.bind({ statement: name, values })],
    ['execute', serialize.execute()],
  ] as const;
  for (const [step, bytes] of steps) {
    c.write(flushed(bytes));
    let msg: BackendMessage;
    do {
      msg = await c.next();
      if (msg.name === 'dataRow') rows.push((msg as DataRowMessage).fields);
    } while (msg.name === 'dataRow' || msg.name === 'rowDescription' || msg.name === 'noData');
    error = errorOf(msg);
    if (msg.name === 'commandComplete') tag = (msg as unknown as { text: string }).text;
    if (error !== null) {
      failedAt = step;
      break;
    }
  }
  c.write(serialize.sync());
  const tail = await c.untilReady();
  const ready = tail.at(-1) as unknown as { status: string };
  return { failedAt, error, rows, tag, status: ready.status };
}

/** The connection still answers, outside any transaction. */
async function expectUsable(c: StepClient): Promise<void> {
  const answer = await c.query('SELECT 41 + 1');
  const row = answer.find((m) => m.name === 'dataRow') as DataRowMessage | undefined;
  expect(row?.fields).toEqual(['42']);
  expect((answer.at(-1) as unknown as { status: string }).status).toBe('I');
}

const denial = (r: StepResult) => ({
  failedAt: r.failedAt,
  code: r.error?.code,
  rule: ruleOf(r.error?.message ?? null),
});

describe('Parse, Bind and Execute sent separately, each with Flush', () => {
  it('runs a granted SELECT with its parameters', async () => {
    await using c = await open();
    const r = await stepwise(c, 'SELECT id, customer FROM orders WHERE id = $1', ['7']);
    expect(r).toMatchObject({ failedAt: 'done', rows: [['7', 'c7']], status: 'I' });
  });

  it.each([
    ['an ungranted read', 'SELECT v FROM secrets WHERE id = $1', ['1'], 'access.table'],
    ['an unbounded DELETE', 'DELETE FROM orders', [], 'guardrail.unbounded_delete'],
    [
      'a DELETE above the row estimate',
      'DELETE FROM big WHERE id > $1',
      ['0'],
      'guardrail.explain_rows',
    ],
    [
      'an UPDATE of a select-only table',
      'UPDATE customers SET name = $1 WHERE id = 1',
      ['x'],
      'access.table',
    ],
    [
      'a DML CTE on an ungranted table',
      'WITH d AS (DELETE FROM secrets WHERE id = $1 RETURNING id) SELECT * FROM d',
      ['1'],
      'access.table',
    ],
    ['COPY to a program', "COPY orders TO PROGRAM 'true'", [], 'guardrail.copy_program'],
  ])('refuses %s and changes nothing', async (_what, text, values, rule) => {
    await using c = await open();
    const r = await stepwise(c, text, values);
    const failedAt = rule === 'guardrail.explain_rows' ? 'execute' : 'parse';
    expect(denial(r)).toEqual({ failedAt, code: '42501', rule });
    expect(r.error?.hint).toBeNull();
    expect(await env.fingerprint()).toBe(pristine);
    await expectUsable(c);
  });

  it('runs a DELETE below the row estimate with the bound parameter', async () => {
    await using c = await open();
    const r = await stepwise(c, 'DELETE FROM big WHERE id > $1', ['4995']);
    expect(r).toMatchObject({ failedAt: 'done', tag: 'DELETE 5' });
  });

  it('asks for an approval when svc-ops deletes, with a HINT, and deletes nothing', async () => {
    await using c = await open('ops');
    const r = await stepwise(c, 'DELETE FROM orders WHERE id = $1', ['9']);
    expect(denial(r)).toEqual({ failedAt: 'parse', code: '42501', rule: 'approval.ops_delete' });
    expect(r.error?.hint).toMatch(/approval/i);
    expect(await env.fingerprint()).toBe(pristine);
    await expectUsable(c);
  });

  it('judges a named statement at every Execute', async () => {
    await using c = await open();
    c.write(serialize.parse({ name: 'by_id', text: 'SELECT customer FROM orders WHERE id = $1' }));
    c.write(serialize.sync());
    expect((await c.untilReady()).map((m) => m.name)).toEqual(['parseComplete', 'readyForQuery']);
    for (const id of ['1', '2']) {
      c.write(flushed(serialize.bind({ statement: 'by_id', values: [id] })));
      expect((await c.next()).name).toBe('bindComplete');
      c.write(serialize.execute());
      c.write(serialize.sync());
      const rows = (await c.untilReady()).filter((m) => m.name === 'dataRow') as DataRowMessage[];
      expect(rows.map((m) => m.fields)).toEqual([[`c${id}`]]);
    }
  });

  it('refuses a statement whose Parse message arrives in two writes', async () => {
    await using c = await open();
    const parse = serialize.parse({ text: 'SELECT * FROM secrets' });
    c.write(parse.subarray(0, 9));
    c.write(flushed(parse.subarray(9)));
    expect(errorOf(await c.next())).toMatchObject({ code: '42501' });
    // The rest of the batch is discarded up to Sync, as after any error.
    c.write(serialize.bind({}));
    c.write(serialize.execute());
    c.write(serialize.sync());
    const r = summarizeBatch(await c.untilReady());
    expect(r.outcomes).toEqual([]);
    await expectUsable(c);
  });

  it('runs nothing of a pipelined batch once one statement is refused', async () => {
    await using c = await open();
    c.write(
      pipelinedBatch([
        { text: "UPDATE orders SET note = 'batch' WHERE id = $1", values: ['1'] },
        { text: 'DELETE FROM orders', values: [] },
        { text: "INSERT INTO orders VALUES ($1, 'batch', 1, NULL)", values: ['900'] },
      ]),
    );
    const r = summarizeBatch(await c.untilReady());
    expect(r.outcomes).toEqual([
      { ok: true, rows: [], tag: 'UPDATE 1' },
      { ok: false, code: '42501' },
    ]);
    expect(await env.fingerprint()).toBe(pristine);
    await expectUsable(c);
  });

  it('survives a 10,000-level statement: refused, and the session and gateway live on', async () => {
    await using c = await open();
    const deep = `SELECT ${'('.repeat(10_000)}1${')'.repeat(10_000)}`;
    const r = await stepwise(c, deep);
    expect(r.failedAt).not.toBe('done');
    await expectUsable(c);
    await using fresh = await open();
    await expectUsable(fresh);
  });
});
