// The hash chain: sealing, canonical JSON, and verifyChain naming each kind of tampering by seq.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { chainStart, createChainBook, recordHash } from './chain.js';
import type { StatementRecord } from './record.js';
import { sealedRecords } from './testing/records.js';
import { verifyChain } from './verify.js';

const T = Date.parse('2026-05-01T00:00:00.000Z');
const chain = () => sealedRecords('s_chain', 6, T);
const anchorOf = (records: StatementRecord[]) => ({
  statement_count: records.length,
  last_hash: records[records.length - 1]!.hash,
});
const problems = (records: StatementRecord[], anchor = anchorOf(chain())) =>
  verifyChain(records, anchor).problems.map((p) => [p.kind, p.seq]);

describe('hash chain', () => {
  it('links each record to the one before, starting from sha256(session_id)', () => {
    const records = chain();
    expect(records[0]?.prev_hash).toBe(createHash('sha256').update('s_chain').digest('hex'));
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    for (let i = 1; i < records.length; i++)
      expect(records[i]?.prev_hash).toBe(records[i - 1]?.hash);
    for (const r of records) expect(recordHash(r)).toBe(r.hash);
    expect(verifyChain(records, anchorOf(records))).toMatchObject({ ok: true, records: 6 });
  });

  it('keeps one chain per session across seal calls and forgets it at close', () => {
    const book = createChainBook();
    const [a] = sealedRecords('x', 1);
    const { seq: _s, prev_hash: _p, hash: _h, ...unsealed } = a!;
    const one = book.seal([unsealed, { ...unsealed, session_id: 'y' }]);
    const two = book.seal([unsealed]);
    expect(one.map((r) => [r.session_id, r.seq])).toEqual([
      ['x', 1],
      ['y', 1],
    ]);
    expect(two[0]).toMatchObject({ seq: 2, prev_hash: one[0]?.hash });
    expect(book.close('x')).toEqual({ count: 2, lastHash: two[0]?.hash });
    expect(book.close('x')).toEqual({ count: 0, lastHash: chainStart('x') });
    expect(book.openSessions).toBe(1);
  });

  it('serialises canonically: key order does not matter, non-JSON values are refused', () => {
    expect(canonicalJson({ b: [1, { d: null, c: 'x' }], a: true })).toBe(
      '{"a":true,"b":[1,{"c":"x","d":null}]}',
    );
    expect(() => canonicalJson({ n: Number.NaN })).toThrow();
    expect(() => canonicalJson({ f: () => 1 })).toThrow();
  });
});

describe('verifyChain', () => {
  it('names a changed field by seq', () => {
    const records = chain();
    records[2] = { ...records[2]!, outcome: 'blocked' };
    expect(problems(records)).toEqual([['changed', 3]]);
  });

  it('names a record rewritten together with its hash (the next link breaks)', () => {
    const records = chain();
    const forged = { ...records[2]!, statement: 'select harmless' };
    records[2] = { ...forged, hash: recordHash(forged) };
    expect(problems(records)).toEqual([['relinked', 4]]);
  });

  it('names a removed record, and a removed tail through the closed session record', () => {
    const records = chain();
    expect(problems([...records.slice(0, 2), ...records.slice(3)])).toEqual([['missing', 3]]);
    expect(problems(records.slice(0, 4))).toEqual([
      ['missing', 5],
      ['missing', 6],
    ]);
    expect(verifyChain(records.slice(0, 4)).ok).toBe(true);
  });

  it('names records out of order (two swapped)', () => {
    const records = chain();
    [records[1], records[2]] = [records[2]!, records[1]!];
    expect(problems(records)).toEqual([['reordered', 2]]);
  });

  it('names a duplicated seq and a record of another session', () => {
    const records = chain();
    expect(problems([...records.slice(0, 3), records[2]!, ...records.slice(3)])).toEqual([
      ['duplicate', 3],
    ]);
    const other = sealedRecords('s_other', 1)[0]!;
    expect(problems([...records.slice(0, 5), { ...other, seq: 6 }])[0]).toEqual(['foreign', 6]);
  });

  it('summarises a long gap in one problem', () => {
    const long = sealedRecords('s_long', 300);
    const report = verifyChain([long[0]!, long[299]!], anchorOf(long));
    expect(report.problems).toEqual([
      { kind: 'missing', seq: 2, detail: 'seq 2 through 299 missing' },
    ]);
  });
});
