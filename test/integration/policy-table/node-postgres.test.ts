// The whole policy table through node-postgres: every row, on one connection per policy and identity,
// multi-statement rows over the simple protocol and all others over the extended protocol.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type PolicyTableEnv, startPolicyTable } from '../../harness/policy-table/fixture.js';
import { openNodePg } from '../../harness/policy-table/live-drivers.js';
import { describeLiveTable } from '../../harness/policy-table/run-live.js';
import { POLICY_TABLE } from '../../harness/policy-table/table.js';

let env: PolicyTableEnv;

beforeAll(async () => {
  env = await startPolicyTable(inject('pg'), 'pgw_table_node');
});

afterAll(async () => {
  await env?.[Symbol.asyncDispose]();
});

describe('the policy table', () => {
  it('holds at least 150 statements with refusals of every kind', () => {
    expect(POLICY_TABLE.length).toBeGreaterThanOrEqual(150);
    const outcomes = new Set(POLICY_TABLE.map((r) => r.expect));
    expect([...outcomes].sort()).toEqual(['allowed', 'approval_required', 'blocked']);
  });
});

describeLiveTable('node-postgres', () => env, POLICY_TABLE, openNodePg, true);
