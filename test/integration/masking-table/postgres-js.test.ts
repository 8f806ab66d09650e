// The masking table through postgres.js: a simple Query, and its default named prepared statements;
// COPY through its readable stream.
import { afterAll, beforeAll, inject } from 'vitest';
import { type MaskingTableEnv, startMaskingTable } from '../../harness/masking-table/fixture.js';
import { openPostgresJs } from '../../harness/masking-table/run-node.js';
import { describeMaskingTable } from '../../harness/masking-table/run-table.js';

let env: MaskingTableEnv;

beforeAll(async () => {
  env = await startMaskingTable(inject('pg'), 'mt_postgres_js');
}, 120_000);

afterAll(async () => {
  await env?.[Symbol.asyncDispose]();
});

describeMaskingTable('postgres.js simple', () => env, {
  kind: 'session',
  open: openPostgresJs('simple'),
});
describeMaskingTable('postgres.js prepared', () => env, {
  kind: 'session',
  open: openPostgresJs('prepared'),
});
