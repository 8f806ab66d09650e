// A representative subset of the policy table through postgres.js: the extended protocol (each row
// prepared and executed), `.simple()` for multi-statement rows, on one connection per session.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type PolicyTableEnv, startPolicyTable } from '../../harness/policy-table/fixture.js';
import { openPostgresJs } from '../../harness/policy-table/live-drivers.js';
import { describeLiveTable } from '../../harness/policy-table/run-live.js';
import { subsetFor } from '../../harness/policy-table/table.js';

const ROWS = subsetFor('postgres.js');
let env: PolicyTableEnv;

beforeAll(async () => {
  env = await startPolicyTable(inject('pg'), 'pgw_table_postgresjs');
});

afterAll(async () => {
  await env?.[Symbol.asyncDispose]();
});

describe('the postgres.js subset', () => {
  it('has at least 30 rows, refusals among them', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(30);
    expect(ROWS.filter((r) => r.expect !== 'allowed').length).toBeGreaterThanOrEqual(15);
  });
});

describeLiveTable('postgres.js', () => env, ROWS, openPostgresJs, true);
