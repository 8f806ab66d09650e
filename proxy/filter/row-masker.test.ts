// Row masking: field plans from RowDescription + lineage, and DataRow rewriting that always yields valid
// protocol (property-based: random rows, random masks).
import fc from 'fast-check';
import { DatabaseError } from 'pg-protocol';
import { Parser } from 'pg-protocol/dist/parser.js';
import { describe, expect, it } from 'vitest';
import { Outbound } from '../wire/outbound.js';
import type { ColumnOrigins, RelationInfo } from './column-origins.js';
import { createMasker, MASK_METHODS, type MaskMethod, REDACTED } from './mask-methods.js';
import {
  type FieldDescription,
  type FieldPlan,
  missingOrigins,
  parseRowDescription,
  planFields,
} from './row-masker.js';
import { writeMaskedRows } from './row-writer.js';

const masker = createMasker(Buffer.from('k'));

function origins(rels: Record<number, RelationInfo>): ColumnOrigins {
  return {
    cached: (oid) => rels[oid],
    load: async () => {},
    columnsOf: async () => null,
    invalidate: () => {},
    close: () => {},
    size: Object.keys(rels).length,
  };
}

const customers: RelationInfo = {
  schema: 'public',
  table: 'customers',
  columns: new Map([
    [1, 'id'],
    [2, 'ssn'],
    [3, 'email'],
  ]),
};

function rowDescription(fields: FieldDescription[]): Buffer {
  const parts = [Buffer.from([0, fields.length])];
  for (const f of fields) {
    const meta = Buffer.alloc(18);
    meta.writeUInt32BE(f.tableOid, 0);
    meta.writeInt16BE(f.attnum, 4);
    meta.writeUInt32BE(f.typeOid, 6);
    meta.writeInt16BE(-1, 10);
    meta.writeInt32BE(-1, 12);
    meta.writeInt16BE(f.format, 16);
    parts.push(Buffer.from(`${f.name}\0`), meta);
  }
  return Buffer.concat(parts);
}

function dataRow(values: (string | null)[]): Buffer {
  const parts = [Buffer.alloc(2)];
  parts[0]!.writeInt16BE(values.length, 0);
  for (const v of values) {
    const len = Buffer.alloc(4);
    if (v === null) len.writeInt32BE(-1, 0);
    else len.writeInt32BE(Buffer.byteLength(v), 0);
    parts.push(len);
    if (v !== null) parts.push(Buffer.from(v));
  }
  return Buffer.concat(parts);
}

/** The whole DataRow message of a body. */
function message(body: Buffer): Buffer {
  const head = Buffer.from([0x44, 0, 0, 0, 0]);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

/** Rewrites one DataRow (given by its body) through the row writer; returns the whole new message. */
function maskDataRow(body: Buffer, plan: FieldPlan): Buffer {
  const out = new Outbound();
  const raw = message(body);
  expect(writeMaskedRows(raw, 0, raw.length, plan, masker, out)).toBe(true);
  return Buffer.concat(out.take().parts);
}

/** Decodes a whole DataRow message with pg-protocol's own parser: proof the bytes are valid protocol. */
function decode(message: Buffer): (string | null)[] {
  let fields: (string | null)[] | undefined;
  new Parser().parse(message, (msg) => {
    if (msg instanceof DatabaseError) throw msg;
    fields = (msg as unknown as { fields: (string | null)[] }).fields;
  });
  if (fields === undefined) throw new Error('no message decoded');
  return fields;
}

const FIELDS: FieldDescription[] = [
  { name: 'id', tableOid: 100, attnum: 1, typeOid: 23, format: 0 },
  { name: 'x', tableOid: 100, attnum: 2, typeOid: 25, format: 0 },
  { name: 'email', tableOid: 100, attnum: 3, typeOid: 1043, format: 0 },
  { name: 'n', tableOid: 0, attnum: 0, typeOid: 23, format: 0 },
];

describe('field plans', () => {
  const mask = { 'public.customers.ssn': 'redact', 'public.customers.email': 'email' } as const;

  it('round-trips RowDescription and finds missing origins', () => {
    expect(parseRowDescription(rowDescription(FIELDS))).toEqual(FIELDS);
    expect(missingOrigins(FIELDS, origins({}))).toEqual([100, 100, 100]);
    expect(missingOrigins(FIELDS, origins({ 100: customers }))).toEqual([]);
  });

  it('masks by origin whatever the output name; masks unproven outputs', () => {
    const plan = planFields(FIELDS, mask, null, origins({ 100: customers }))!;
    expect(plan.methods).toEqual([null, 'redact', 'email', 'redact']);
    expect(plan.masked).toEqual(['public.customers.ssn', 'public.customers.email', 'output:n']);
  });

  it('uses lineage for expression outputs: derived from a masked column → masked, else kept', () => {
    const clean = planFields(
      FIELDS,
      mask,
      [
        { kind: 'column', source: 'public.customers.id' },
        { kind: 'column', source: 'public.customers.ssn' },
        { kind: 'column', source: 'public.customers.email' },
        { kind: 'derived', sources: [] },
      ],
      origins({ 100: customers }),
    )!;
    expect(clean.methods[3]).toBeNull();
    const dirty = planFields(
      FIELDS,
      mask,
      [
        { kind: 'column', source: 'public.customers.id' },
        { kind: 'column', source: 'public.customers.ssn' },
        { kind: 'column', source: 'public.customers.email' },
        { kind: 'derived', sources: ['public.customers.*'] },
      ],
      origins({ 100: customers }),
    )!;
    expect(dirty.methods[3]).toBe('redact');
  });

  it('masks a field whose origin cannot be resolved', () => {
    const plan = planFields(
      [{ ...FIELDS[0]!, attnum: 9 }],
      mask,
      null,
      origins({ 100: customers }),
    )!;
    expect(plan.methods).toEqual(['redact']);
  });

  it('no mask plan, no field plan', () => {
    expect(planFields(FIELDS, {}, null, origins({ 100: customers }))).toBeNull();
  });
});

describe('mask methods', () => {
  it('each method on text, NULL for other types', () => {
    expect(masker.mask('redact', 'x', 25)).toBe(REDACTED);
    expect(masker.mask('null', 'x', 25)).toBeNull();
    expect(masker.mask('partial', '4111111111111111', 25)).toBe('****1111');
    expect(masker.mask('partial', 'abc', 25)).toBe('***');
    expect(masker.mask('email', 'a.b@example.org', 1043)).toBe('***@example.org');
    expect(masker.mask('email', 'no-at', 25)).toBe(REDACTED);
    const h = masker.mask('hash', 'v', 25);
    expect(h).toMatch(/^[0-9a-f]{32}$/);
    expect(masker.mask('hash', 'v', 25)).toBe(h);
    expect(createMasker(Buffer.from('other')).mask('hash', 'v', 25)).not.toBe(h);
    for (const m of MASK_METHODS) expect(masker.mask(m, '123', 23)).toBeNull();
  });
});

describe('DataRow rewriting', () => {
  it('rewrites masked fields and keeps the rest byte for byte', () => {
    const plan = planFields(
      FIELDS,
      { 'public.customers.ssn': 'redact' },
      null,
      origins({ 100: customers }),
    )!;
    const out = maskDataRow(dataRow(['7', '078-05-1120', 'a@b.c', '3']), plan);
    expect(decode(out)).toEqual(['7', REDACTED, 'a@b.c', null]);
  });

  it('property: random rows with random masks re-encode to valid protocol with the right values', () => {
    const method = fc.constantFrom<MaskMethod | null>(null, ...MASK_METHODS);
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.option(fc.string({ unit: 'grapheme' }), { nil: null }),
            method,
            fc.constantFrom(25, 23, 1043, 17),
          ),
          {
            minLength: 0,
            maxLength: 12,
          },
        ),
        (columns) => {
          const plan = {
            methods: columns.map(([, m]) => m),
            types: columns.map(([, , t]) => t),
            masked: [],
          };
          const out = maskDataRow(dataRow(columns.map(([v]) => v)), plan);
          const decoded = decode(out);
          expect(decoded.length).toBe(columns.length);
          columns.forEach(([value, m, type], i) => {
            if (m === null || value === null) expect(decoded[i]).toBe(value);
            else expect(decoded[i]).toBe(masker.mask(m, value, type));
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
