// A statement pipelined behind one that changes session state (search_path, prepared statements,
// cursors) must be judged against the state it will run under, not the state before: the gate waits
// for the earlier request, and inside one extended batch it refuses what follows the change.
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type PolicyTableEnv, startPolicyTable } from '../harness/policy-table/fixture.js';
import { connectSteps, errorOf } from '../harness/policy-table/wire-steps.js';

let env: PolicyTableEnv;
beforeAll(async () => {
  env = await startPolicyTable(inject('pg'), 'pgw_pipelined_state');
});
afterAll(async () => {
  await env?.[Symbol.asyncDispose]();
});

const names = (messages: readonly { name: string }[]) => messages.map((m) => m.name);

describe('pipelined session-state changes', () => {
  it('judges a read pipelined after SET search_path under the new path', async () => {
    await using c = await connectSteps(env.endpoint('lax', 'agent'));
    // On its own, the other schema's table is refused.
    expect(names(await c.query('SELECT * FROM other.orders'))).toContain('error');
    c.write(
      Buffer.concat([
        serialize.query('SET search_path = other'),
        serialize.query('SELECT * FROM orders'),
      ]),
    );
    expect(names(await c.untilReady())).toContain('commandComplete');
    const second = await c.untilReady();
    expect(names(second)).not.toContain('dataRow');
    expect(errorOf(second.find((m) => m.name === 'error')!)?.message).toBeDefined();
  });

  it('judges an EXECUTE pipelined after a PREPARE that redefines it as the new statement', async () => {
    await using c = await connectSteps(env.endpoint('lax', 'agent'));
    const before = Number((await env.admin.query('SELECT count(*) FROM big')).rows[0].count);
    expect(names(await c.query('PREPARE pt_p AS SELECT count(*) FROM orders'))).toContain(
      'commandComplete',
    );
    c.write(
      Buffer.concat([
        serialize.query('DEALLOCATE pt_p; PREPARE pt_p AS DELETE FROM big WHERE id > 0'),
        serialize.query('EXECUTE pt_p'),
      ]),
    );
    await c.untilReady();
    const executed = await c.untilReady();
    expect(names(executed)).toContain('error');
    expect(Number((await env.admin.query('SELECT count(*) FROM big')).rows[0].count)).toBe(before);
  });

  it('refuses a Parse that follows a search_path change in the same extended batch', async () => {
    await using c = await connectSteps(env.endpoint('lax', 'agent'));
    c.write(
      Buffer.concat([
        serialize.parse({ text: 'SET search_path = other' }),
        serialize.bind({}),
        serialize.execute({}),
        serialize.parse({ text: 'SELECT * FROM orders' }),
        serialize.bind({}),
        serialize.execute({}),
        serialize.sync(),
      ]),
    );
    const batch = await c.untilReady();
    expect(names(batch)).not.toContain('dataRow');
    const error = batch.find((m) => m.name === 'error');
    expect(errorOf(error!)?.message).toMatch(/must wait for that statement's Sync/);
    // The session goes on: the next batch is judged under the path the server now has (unchanged, as
    // the batch failed).
    expect(names(await c.query('SELECT 1'))).toContain('commandComplete');
  });

  it('refuses a Query sent inside an unsynced batch after a state change, instead of waiting forever', async () => {
    await using c = await connectSteps(env.endpoint('lax', 'agent'));
    c.write(
      Buffer.concat([
        serialize.parse({ text: 'SET search_path = other' }),
        serialize.bind({}),
        serialize.execute({}),
        serialize.query('SELECT * FROM orders'),
      ]),
    );
    const answered = await c.untilReady();
    expect(names(answered)).not.toContain('dataRow');
    const error = answered.find((m) => m.name === 'error');
    expect(errorOf(error!)?.message).toMatch(/must wait for that statement's Sync/);
  });
});
