import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { createChainBook, recordHash } from './chain.js';
import {
  canonicalStatement,
  factsJson,
  SESSION_COLUMNS,
  STATEMENT_COLUMNS,
  sessionLine,
  statementLine,
  toChTime,
} from './encode.js';
import { auditFacts, toSessionClosed } from './map.js';
import type { StatementRecord, UnsealedStatementRecord } from './record.js';
import { facts, observedSession, sealedRecords } from './testing/records.js';

const text = fc.string({ unit: 'binary', maxLength: 40 });
const texts = fc.array(text, { maxLength: 4 });
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.boolean(),
    fc.constant(null),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(text, tie('value'), { maxKeys: 4 }),
  ),
})).value;

const unsealed: fc.Arbitrary<UnsealedStatementRecord> = fc.record({
  ts: fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString()),
  session_id: text,
  identity_sub: text,
  identity_groups: texts,
  identity_issuer: text,
  identity_via: fc.constantFrom('jwt', 'introspection', 'credential', 'password'),
  client_addr: text,
  application_name: text,
  database: text,
  protocol: fc.constantFrom('simple', 'extended', 'function', 'unknown'),
  statement_index: fc.nat(),
  statement_count: fc.nat(),
  command: text,
  tables_read: texts,
  tables_written: texts,
  statement: text,
  statement_form: fc.constantFrom('normalized', 'raw'),
  sha256: text,
  fingerprint: text,
  outcome: fc.constantFrom('allowed', 'masked', 'blocked', 'approval_required', 'error'),
  executed: fc.boolean(),
  rule_ids: texts,
  would_block: texts,
  reason: nullable(text),
  masked_columns: texts,
  rows: nullable(fc.nat()),
  duration_ms: fc.double({ min: 0, max: 1e9, noNaN: true }),
  sqlstate: nullable(text),
  bundle_revision: nullable(text),
  grant_ids: texts,
  approval_id: nullable(text),
  facts: nullable(fc.dictionary(text, json, { maxKeys: 6 })),
});

describe('canonicalStatement', () => {
  it('is canonicalJson of the record with its seq, for any record', () => {
    fc.assert(
      fc.property(unsealed, fc.integer({ min: 1, max: 2 ** 31 }), (r, seq) => {
        expect(canonicalStatement(r, seq)).toBe(canonicalJson({ ...r, seq }));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a non-finite number, as canonicalJson does', () => {
    const [record] = sealedRecords('s_nan', 1);
    expect(() => canonicalStatement({ ...record!, duration_ms: Number.NaN }, 1)).toThrow(
      /non-finite/,
    );
  });
});

describe('the chain', () => {
  it('gives sealed records the hash verification recomputes, and sealLines the same records', () => {
    fc.assert(
      fc.property(fc.array(unsealed, { minLength: 1, maxLength: 5 }), (records) => {
        const same = records.map((r) => ({ ...r, session_id: 's_prop' }));
        const sealed = createChainBook().seal(same);
        for (const s of sealed) expect(s.hash).toBe(recordHash(s));
        expect(createChainBook().sealLines(same)).toEqual(sealed.map(statementLine));
      }),
      { numRuns: 100 },
    );
  });
});

describe('table lines', () => {
  it('hold every column of a statement record in table order, facts as canonical JSON text', () => {
    const [record] = sealedRecords('s_line', 1, Date.parse('2026-03-04T05:06:07.089Z'));
    const row = JSON.parse(statementLine(record!)) as unknown[];
    expect(row).toHaveLength(STATEMENT_COLUMNS.length);
    const byColumn = Object.fromEntries(STATEMENT_COLUMNS.map((c, i) => [c, row[i]]));
    const { ts, facts, ...rest } = record as StatementRecord;
    expect(byColumn).toEqual({
      ...rest,
      ts: '2026-03-04 05:06:07.089',
      facts: canonicalJson(facts),
    });
    expect(ts).toBe('2026-03-04T05:06:07.089Z');
  });

  it('store facts of an unjudged statement as the empty string', () => {
    const [record] = sealedRecords('s_line', 1);
    const row = JSON.parse(statementLine({ ...record!, facts: null })) as unknown[];
    expect(row[STATEMENT_COLUMNS.indexOf('facts')]).toBe('');
  });

  it('hold every column of a session record in table order', () => {
    const record = toSessionClosed(
      observedSession('s_sess'),
      { reason: 'client terminated', sqlstate: null, bytesIn: 5, bytesOut: 7, tls: true },
      { count: 3, lastHash: 'f'.repeat(64) },
      Date.parse('2026-03-04T05:06:07.089Z'),
    );
    const row = JSON.parse(sessionLine(record)) as unknown[];
    expect(Object.fromEntries(SESSION_COLUMNS.map((c, i) => [c, row[i]]))).toEqual({
      ...record,
      ts: toChTime(record.ts),
    });
  });
});

describe('facts text', () => {
  it('registered by the mapping is canonicalJson of the facts it built', () => {
    const base = facts();
    const variants = [
      base,
      facts({
        command: 'SET',
        settings: [
          { name: 'search_path', value: 'secret', local: true },
          { name: 'work_mem', value: null },
          { name: 'timezone' },
        ],
        objects: [{ kind: 'table', name: 'public.t' }],
        writes: [
          { schema: 'public', table: 'w', action: 'update', has_where: false, columns: ['a'] },
          { schema: 'public', table: 'x', action: 'delete', has_where: true },
        ],
        functions: ['pg_catalog.now'],
        flags: ['multi_statement'],
        estimated_rows: 12,
      }),
    ];
    for (const f of variants) {
      const built = auditFacts(f);
      expect(factsJson({ facts: built })).toBe(canonicalJson(built));
      // A repeat shares the cached parts and gives the same text.
      expect(factsJson({ facts: auditFacts(f) })).toBe(canonicalJson(built));
    }
  });
});
