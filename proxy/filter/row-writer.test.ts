// The row writer: runs of DataRows rewritten straight into the outbound bytes decode (with pg-protocol's
// own parser) to exactly what the text form of each method gives, whatever the values (multi-byte, NULL,
// invalid UTF-8, growing), the run length, or where the chunks were cut; malformed rows write nothing.
import fc from 'fast-check';
import { DatabaseError } from 'pg-protocol';
import { Parser } from 'pg-protocol/dist/parser.js';
import { describe, expect, it } from 'vitest';
import { concat, everySplit } from '../../test/harness/bytes.js';
import { Disposition, dispositionTable, Framer } from '../wire/framer.js';
import { Outbound } from '../wire/outbound.js';
import {
  createMasker,
  MASK_METHODS,
  type Masker,
  type MaskMethod,
  REDACTED,
} from './mask-methods.js';
import type { FieldPlan } from './row-masker.js';
import { writeMaskedRows } from './row-writer.js';

const masker = createMasker(Buffer.from('k'));
/** The same methods through their text form only. */
const textOnly: Masker = { mask: masker.mask };
const TEXT = 25;
const INT4 = 23;

type Value = string | Buffer | null;

/** One DataRow message; Buffer values go as they are (for invalid UTF-8). */
function dataRow(values: readonly Value[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x44, 0, 0, 0, 0, 0, 0])];
  parts[0]!.writeInt16BE(values.length, 5);
  for (const v of values) {
    const len = Buffer.alloc(4);
    if (v === null) len.writeInt32BE(-1, 0);
    else {
      const bytes = typeof v === 'string' ? Buffer.from(v) : v;
      len.writeInt32BE(bytes.length, 0);
      parts.push(len, bytes);
      continue;
    }
    parts.push(len);
  }
  const row = Buffer.concat(parts);
  row.writeInt32BE(row.length - 1, 1);
  return row;
}

/** Decodes every message of `bytes` with pg-protocol: proof they are valid protocol. */
function decodeRows(bytes: Buffer): (string | null)[][] {
  const rows: (string | null)[][] = [];
  new Parser().parse(bytes, (msg) => {
    if (msg instanceof DatabaseError) throw msg;
    rows.push((msg as unknown as { fields: (string | null)[] }).fields);
  });
  return rows;
}

/** What the client must see: each masked value as the text form gives it. */
function expected(rows: readonly (readonly Value[])[], plan: FieldPlan): (string | null)[][] {
  return rows.map((row) =>
    row.map((v, i) => {
      if (v === null) return null;
      const text = typeof v === 'string' ? v : v.toString('utf8');
      const method = plan.methods[i] ?? null;
      return method === null ? text : masker.mask(method, text, plan.types[i] ?? 0);
    }),
  );
}

function rewrite(input: Buffer, plan: FieldPlan, m: Masker = masker, out = new Outbound()) {
  const ok = writeMaskedRows(input, 0, input.length, plan, m, out);
  return { ok, parts: out.take().parts };
}

const PEOPLE: FieldPlan = {
  methods: [null, null, 'email', 'redact', 'partial', null],
  types: [INT4, TEXT, TEXT, TEXT, TEXT, TEXT],
  masked: [],
};

describe('writeMaskedRows', () => {
  it('writes a run of rows as one buffer; unmasked fields and NULLs byte for byte', () => {
    const rows: Value[][] = Array.from({ length: 50 }, (_, i) => [
      String(i),
      i % 7 === 0 ? null : `Person ${i}`,
      i % 5 === 0 ? null : `user${i}@example${i % 3}.com`,
      i % 4 === 0 ? null : `${100 + i}-55-0199`,
      `+44 20 7946 ${1000 + i}`,
      'note',
    ]);
    const { ok, parts } = rewrite(concat(...rows.map(dataRow)), PEOPLE);
    expect(ok).toBe(true);
    expect(parts).toHaveLength(1);
    expect(decodeRows(parts[0]!)).toEqual(expected(rows, PEOPLE));
    expect(decodeRows(parts[0]!)[1]).toEqual([
      '1',
      'Person 1',
      '***@example1.com',
      REDACTED,
      '****1001',
      'note',
    ]);
  });

  it('keeps characters, not bytes, of multi-byte values', () => {
    const rows: Value[][] = [
      ['1', 'Zoë', 'jörg@bücher.de', '日本語', '€€€€€€', 'ü'],
      ['2', '𝄞', 'ok@exämple.org', '', '𝄞𝄞𝄞𝄞𝄞', ''],
    ];
    const { ok, parts } = rewrite(concat(...rows.map(dataRow)), PEOPLE);
    expect(ok).toBe(true);
    expect(decodeRows(Buffer.concat(parts))).toEqual([
      ['1', 'Zoë', '***@bücher.de', REDACTED, '****€€€€', 'ü'],
      ['2', '𝄞', '***@exämple.org', REDACTED, '****𝄞𝄞𝄞𝄞', ''],
    ]);
  });

  it('masks non-text columns and invalid UTF-8 as the text form does', () => {
    const plan: FieldPlan = {
      methods: ['email', 'partial', 'hash', 'redact'],
      types: [TEXT, TEXT, TEXT, INT4],
      masked: [],
    };
    const rows: Value[][] = [
      [
        Buffer.from([0x61, 0x40, 0xff, 0x62]),
        Buffer.from([0x61, 0x62, 0x63, 0x64, 0xe2]),
        Buffer.from([0xc3]),
        '42',
      ],
    ];
    const { ok, parts } = rewrite(concat(...rows.map(dataRow)), plan);
    expect(ok).toBe(true);
    expect(decodeRows(Buffer.concat(parts))).toEqual(expected(rows, plan));
    expect(decodeRows(Buffer.concat(parts))[0]![3]).toBeNull();
  });

  it('writes a row the long way when a value outgrows the room kept for it, in order', () => {
    const long = 'L'.repeat(300);
    const growing: Masker = { mask: (method) => (method === 'email' ? long : REDACTED) };
    const plan: FieldPlan = { methods: [null, 'email'], types: [TEXT, TEXT], masked: [] };
    const rows: Value[][] = Array.from({ length: 9 }, (_, i) => [
      `r${i}`,
      i % 3 === 1 ? 'a@b' : null,
    ]);
    const out = new Outbound();
    expect(
      writeMaskedRows(
        concat(...rows.map(dataRow)),
        0,
        concat(...rows.map(dataRow)).length,
        plan,
        growing,
        out,
      ),
    ).toBe(true);
    expect(decodeRows(Buffer.concat(out.take().parts))).toEqual(
      rows.map(([id, v]) => [id, v === null ? null : long]),
    );
  });

  it('passes the fields after the last masked one as sent', () => {
    const plan: FieldPlan = { methods: ['redact'], types: [TEXT], masked: [] };
    const { ok, parts } = rewrite(dataRow(['secret', 'keep', null, 'also']), plan);
    expect(ok).toBe(true);
    expect(decodeRows(Buffer.concat(parts))).toEqual([[REDACTED, 'keep', null, 'also']]);
  });

  it('refuses malformed rows and writes nothing of their run', () => {
    const good = dataRow(['a', 'b@c']);
    const plan: FieldPlan = { methods: ['redact', 'email'], types: [TEXT, TEXT], masked: [] };
    const overrun = dataRow(['a', 'b@c']);
    overrun.writeInt32BE(100, 7);
    const negative = dataRow(['a', 'b@c']);
    negative.writeInt16BE(-1, 5);
    const trailing = Buffer.concat([dataRow(['a', 'b@c']), Buffer.from([0])]);
    trailing.writeInt32BE(trailing.length - 1, 1);
    const short = Buffer.from([0x44, 0, 0, 0, 8, 0, 1, 0, 0]);
    const notARow = Buffer.from(good);
    notARow[0] = 0x43;
    for (const bad of [overrun, negative, trailing, short, notARow]) {
      const { ok, parts } = rewrite(concat(good, bad, good), plan);
      expect(ok).toBe(false);
      expect(parts).toEqual([]);
    }
  });

  it('property: random runs, plans and values decode to the text form, with or without byte forms', () => {
    const method = fc.constantFrom<MaskMethod | null>(null, ...MASK_METHODS);
    const value = fc.oneof(
      fc.constant(null),
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.stringMatching(/^[a-zé]{0,3}@[a-zü.]{0,6}$/),
      fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(method, fc.constantFrom(TEXT, 1043, INT4, 17)), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.array(fc.array(value, { minLength: 6, maxLength: 6 }), { maxLength: 40 }),
        fc.nat(5000),
        (columns, values, prefix) => {
          const plan: FieldPlan = {
            methods: columns.map(([m]) => m),
            types: columns.map(([, t]) => t),
            masked: [],
          };
          const rows = values.map((v) => v.slice(0, columns.length));
          const input = concat(...rows.map(dataRow));
          const want = expected(rows, plan);
          for (const m of [masker, textOnly]) {
            // Bytes already queued (up to a slab and more) must come first and unchanged.
            const out = new Outbound();
            const head = Buffer.alloc(prefix, 0x5a);
            const buf = out.reserve(prefix);
            head.copy(buf, out.at);
            out.commit(out.at + prefix);
            const { ok, parts } = rewrite(input, plan, m, out);
            expect(ok).toBe(true);
            const bytes = Buffer.concat(parts);
            expect(bytes.subarray(0, prefix)).toEqual(head);
            expect(decodeRows(bytes.subarray(prefix))).toEqual(want);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('rows split across chunks at any offset give the same bytes as whole', () => {
    const rows: Value[][] = Array.from({ length: 6 }, (_, i) => [
      String(i),
      `Zoë ${i}`,
      `n${i}@bücher.de`,
      i === 2 ? null : '078-05-1120',
      '€€€€€€',
      'x',
    ]);
    const input = concat(...rows.map(dataRow));
    const table = dispositionTable({ D: Disposition.rewrite });
    const through = (parts: readonly Buffer[]): Buffer => {
      const out = new Outbound();
      const framer = new Framer(
        table,
        { maxInspectLength: 1 << 20, maxForwardLength: 1 << 20 },
        {
          forward: (bytes) => out.push(bytes),
          message: () => expect.unreachable('rows come as runs'),
          rewrite: (_type, src, start, end) =>
            expect(writeMaskedRows(src, start, end, PEOPLE, masker, out)).toBe(true),
          fault: (err) => expect.unreachable(err.message),
        },
      );
      for (const part of parts) framer.push(part);
      return Buffer.concat(out.take().parts);
    };
    const whole = through([input]);
    expect(decodeRows(whole)).toEqual(expected(rows, PEOPLE));
    for (const [head, tail] of everySplit(input)) expect(through([head, tail])).toEqual(whole);
  });
});
