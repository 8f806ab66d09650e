// A representative subset of the policy table through psql (simple Query per statement, one session per policy and identity).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type PolicyTableEnv, startPolicyTable } from '../../harness/policy-table/fixture.js';
import { describeBatchTable, runPsqlBatch } from '../../harness/policy-table/run-batch.js';
import { subsetFor } from '../../harness/policy-table/table.js';

const ROWS = subsetFor('psql');
let env: PolicyTableEnv;

beforeAll(async () => {
  env = await startPolicyTable(inject('pg'), 'pgw_table_psql');
});

afterAll(async () => {
  await env?.[Symbol.asyncDispose]();
});

describe('the psql subset', () => {
  it('has at least 30 rows, refusals among them', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(30);
    expect(ROWS.filter((r) => r.expect !== 'allowed').length).toBeGreaterThanOrEqual(15);
  });
});

describeBatchTable('psql', () => env, ROWS, runPsqlBatch);
