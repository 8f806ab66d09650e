// The masking table through node-postgres: simple protocol, unnamed extended protocol (text), and named
// statements with binary results; COPY through the simple protocol.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type MaskingTableEnv, startMaskingTable } from '../../harness/masking-table/fixture.js';
import { openNodePg } from '../../harness/masking-table/run-node.js';
import { describeMaskingTable } from '../../harness/masking-table/run-table.js';
import { leaks, secretValues } from '../../harness/masking-table/secrets.js';
import { MASKING_TABLE } from '../../harness/masking-table/table.js';
import { startTap } from '../../harness/tap.js';

let env: MaskingTableEnv;

beforeAll(async () => {
  env = await startMaskingTable(inject('pg'), 'mt_node_pg');
}, 120_000);

afterAll(async () => {
  await env?.[Symbol.asyncDispose]();
});

describe('the masking table', () => {
  it('holds at least 60 statements, refusals and failures among them', () => {
    expect(MASKING_TABLE.length).toBeGreaterThanOrEqual(60);
    expect(MASKING_TABLE.filter((c) => c.refused !== undefined).length).toBeGreaterThanOrEqual(15);
    expect(MASKING_TABLE.filter((c) => c.error !== undefined).length).toBeGreaterThanOrEqual(4);
  });

  it('the byte check sees every secret, in text and binary results, when nothing masks them', async () => {
    await using tap = await startTap(env.direct.port);
    for (const mode of ['simple', 'binary'] as const) {
      const session = await openNodePg(mode)({ ...env.direct, port: tap.port });
      tap.reset();
      const r = await session.run('SELECT * FROM customers', false);
      await session.close();
      expect(r.ok).toBe(true);
      const found = leaks(tap.received());
      // A binary date is four bytes, not text: the binary pattern stands for it.
      const textual = secretValues().filter(
        (v) => mode === 'simple' || !/^\d{4}-\d\d-\d\d$/.test(v),
      );
      for (const v of textual) expect(found, `${mode}: ${v}`).toContain(v);
      if (mode === 'binary')
        expect(found.filter((l) => l.startsWith('binary date'))).toHaveLength(3);
    }
  });
});

describeMaskingTable('node-pg simple', () => env, { kind: 'session', open: openNodePg('simple') });
describeMaskingTable('node-pg extended', () => env, {
  kind: 'session',
  open: openNodePg('extended'),
});
describeMaskingTable('node-pg binary', () => env, { kind: 'session', open: openNodePg('binary') });
