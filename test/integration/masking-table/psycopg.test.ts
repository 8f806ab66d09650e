// The masking table through psycopg 3: text cursors, and binary cursors (`conn.cursor(binary=True)`);
// COPY through cursor.copy().
import { afterAll, beforeAll, inject } from 'vitest';
import { type MaskingTableEnv, startMaskingTable } from '../../harness/masking-table/fixture.js';
import { describeMaskingTable } from '../../harness/masking-table/run-table.js';

let env: MaskingTableEnv;

beforeAll(async () => {
  env = await startMaskingTable(inject('pg'), 'mt_psycopg');
}, 120_000);

afterAll(async () => {
  await env?.[Symbol.asyncDispose]();
});

describeMaskingTable('psycopg text', () => env, { kind: 'psycopg', binary: false });
describeMaskingTable('psycopg binary', () => env, { kind: 'psycopg', binary: true });
