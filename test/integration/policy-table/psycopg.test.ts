// A representative subset of the policy table through psycopg 3 under /usr/bin/python3 (simple Query for statements without parameters, copy() for COPY).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type PolicyTableEnv, startPolicyTable } from '../../harness/policy-table/fixture.js';
import { describeBatchTable, runPsycopgBatch } from '../../harness/policy-table/run-batch.js';
import { subsetFor } from '../../harness/policy-table/table.js';

const ROWS = subsetFor('psycopg');
let env: PolicyTableEnv;

beforeAll(async () => {
  env = await startPolicyTable(inject('pg'), 'pgw_table_psycopg');
});

afterAll(async () => {
  await env?.[Symbol.asyncDispose]();
});

describe('the psycopg subset', () => {
  it('has at least 30 rows, refusals among them', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(30);
    expect(ROWS.filter((r) => r.expect !== 'allowed').length).toBeGreaterThanOrEqual(15);
  });
});

describeBatchTable('psycopg', () => env, ROWS, runPsycopgBatch);
