// The masking table through psql: one process per case (--csv output), COPY data as psql writes it.
import { afterAll, beforeAll, inject } from 'vitest';
import { type MaskingTableEnv, startMaskingTable } from '../../harness/masking-table/fixture.js';
import { describeMaskingTable } from '../../harness/masking-table/run-table.js';

let env: MaskingTableEnv;

beforeAll(async () => {
  env = await startMaskingTable(inject('pg'), 'mt_psql');
}, 120_000);

afterAll(async () => {
  await env?.[Symbol.asyncDispose]();
});

describeMaskingTable('psql', () => env, { kind: 'psql' });
