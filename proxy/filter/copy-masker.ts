// Masks COPY ... TO STDOUT data like rows: per column by lineage, in text, CSV and binary formats. Each
// CopyData the server sends carries one row (or the binary header / trailer), so rows are rewritten whole.
// @see https://www.postgresql.org/docs/current/sql-copy.html (File Formats)

import { parseSync } from 'libpg-query';
import type { Masker, MaskMethod } from './mask-methods.js';

export interface CopyFormat {
  readonly format: 'text' | 'csv' | 'binary';
  readonly delimiter: string;
  readonly nullString: string;
  readonly quote: string;
  readonly escape: string;
  readonly header: boolean;
}

/** Reads the output format of a COPY statement from its text (options as the server reads them). */
export function copyFormatOf(sql: string): CopyFormat | null {
  let stmt: {
    CopyStmt?: {
      options?: { DefElem?: { defname?: string; arg?: Record<string, Record<string, unknown>> } }[];
    };
  };
  try {
    stmt = (parseSync(sql) as { stmts: { stmt: typeof stmt }[] }).stmts[0]?.stmt ?? {};
  } catch {
    return null;
  }
  if (stmt.CopyStmt === undefined) return null;
  const options = new Map<string, string | boolean>();
  for (const o of stmt.CopyStmt.options ?? []) {
    const name = o.DefElem?.defname;
    const arg = o.DefElem?.arg;
    if (name === undefined) continue;
    const value = arg?.String?.sval ?? arg?.Boolean?.boolval ?? true;
    options.set(name, value as string | boolean);
  }
  const format = String(options.get('format') ?? 'text');
  if (format !== 'text' && format !== 'csv' && format !== 'binary') return null;
  const csv = format === 'csv';
  const header = options.get('header');
  return {
    format,
    delimiter: String(options.get('delimiter') ?? (csv ? ',' : '\t')),
    nullString: String(options.get('null') ?? (csv ? '' : '\\N')),
    quote: String(options.get('quote') ?? '"'),
    escape: String(options.get('escape') ?? options.get('quote') ?? '"'),
    header: header === true || header === 'true' || header === 'on' || header === 'match',
  };
}

export interface CopyPlan {
  readonly format: CopyFormat;
  /** Per column: the method, or null to keep; `all` masks every column (lineage unknown). */
  readonly methods: readonly (MaskMethod | null)[];
  readonly all: boolean;
  /** A CSV/text header row is still to come and passes unchanged. */
  headerPending: boolean;
}

const BINARY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Masks one CopyData body; returns the new CopyData message (or null to keep the original). */
export function maskCopyData(body: Buffer, plan: CopyPlan, masker: Masker): Buffer | null {
  if (plan.format.format === 'binary') return maskBinary(body, plan);
  if (plan.headerPending) {
    plan.headerPending = false;
    return null;
  }
  const text = body.toString('utf8');
  const newline = text.endsWith('\r\n') ? '\r\n' : text.endsWith('\n') ? '\n' : '';
  const row = text.slice(0, text.length - newline.length);
  const fields: Field[] =
    plan.format.format === 'csv'
      ? splitCsv(row, plan.format)
      : row
          .split(plan.format.delimiter)
          .map((raw) => ({ raw, value: unescapeText(raw), quoted: false }));
  const out = fields.map((field, i) => {
    const method = plan.all ? 'null' : (plan.methods[i] ?? null);
    if (method === null) return field.raw;
    if (field.raw === plan.format.nullString && !field.quoted) return field.raw;
    // Masked text is re-encoded as a plain (quoted in CSV) field; non-text columns become NULL.
    const masked = masker.mask(method, field.value, 25);
    if (masked === null || method === 'null') return plan.format.nullString;
    return plan.format.format === 'csv' ? quoteCsv(masked, plan.format) : escapeText(masked);
  });
  return copyData(Buffer.from(out.join(plan.format.delimiter) + newline, 'utf8'));
}

interface Field {
  readonly raw: string;
  readonly value: string;
  readonly quoted: boolean;
}

function splitCsv(row: string, f: CopyFormat): Field[] {
  const fields: Field[] = [];
  let i = 0;
  for (;;) {
    const start = i;
    let value = '';
    let quoted = false;
    if (row[i] === f.quote) {
      quoted = true;
      i++;
      while (i < row.length) {
        if (row[i] === f.escape && row[i + 1] === f.quote) {
          value += f.quote;
          i += 2;
        } else if (row[i] === f.quote) {
          i++;
          break;
        } else value += row[i++];
      }
    }
    while (i < row.length && row[i] !== f.delimiter) value += row[i++];
    fields.push({ raw: row.slice(start, i), value, quoted });
    if (i >= row.length) return fields;
    i++;
  }
}

function quoteCsv(value: string, f: CopyFormat): string {
  return f.quote + value.replaceAll(f.quote, f.escape + f.quote) + f.quote;
}

function unescapeText(raw: string): string {
  return raw.replace(
    /\\(.)/g,
    (_m, c: string) => ({ t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', v: '\v' })[c] ?? c,
  );
}

function escapeText(value: string): string {
  return value.replace(
    /[\\\t\n\r]/g,
    (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c] ?? c,
  );
}

function maskBinary(body: Buffer, plan: CopyPlan): Buffer | null {
  let pos = 0;
  if (
    body.length >= BINARY_SIGNATURE.length &&
    body.subarray(0, BINARY_SIGNATURE.length).equals(BINARY_SIGNATURE)
  ) {
    pos = BINARY_SIGNATURE.length + 4;
    const ext = body.readInt32BE(pos);
    pos += 4 + ext;
    if (pos >= body.length) return null;
  }
  const head = body.subarray(0, pos);
  const count = body.readInt16BE(pos);
  if (count < 0) return null;
  const parts: Buffer[] = [head, body.subarray(pos, pos + 2)];
  pos += 2;
  for (let i = 0; i < count; i++) {
    const len = body.readInt32BE(pos);
    const end = pos + 4 + Math.max(len, 0);
    const method = plan.all ? 'null' : (plan.methods[i] ?? null);
    // Binary values are type-specific: a masked binary field is always NULL.
    parts.push(
      method === null || len < 0 ? body.subarray(pos, end) : Buffer.from([0xff, 0xff, 0xff, 0xff]),
    );
    pos = end;
  }
  return copyData(Buffer.concat(parts));
}

function copyData(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out[0] = 0x64;
  out.writeInt32BE(4 + payload.length, 1);
  payload.copy(out, 5);
  return out;
}
