// Parses COPY TO STDOUT data (text, CSV, binary) and psql's --csv output into rows of cells, so a
// gateway's answer can be compared cell by cell with PostgreSQL's own.
// @see https://www.postgresql.org/docs/current/sql-copy.html (File Formats)
import type { CopyFormat } from './case.js';

/** A parsed cell: the text (hex of the bytes for binary COPY), or null for SQL NULL. */
export type CopyCell = string | null;

const TEXT_ESCAPES: Readonly<Record<string, string>> = {
  t: '\t',
  n: '\n',
  r: '\r',
  b: '\b',
  f: '\f',
  v: '\v',
};

function textRows(data: string): CopyCell[][] {
  return data
    .split('\n')
    .filter((line) => line !== '')
    .map((line) =>
      line
        .split('\t')
        .map((f) =>
          f === '\\N' ? null : f.replace(/\\(.)/g, (_m, c: string) => TEXT_ESCAPES[c] ?? c),
        ),
    );
}

/** CSV as COPY and psql --csv write it: an unquoted empty field is NULL, `""` an empty string. */
export function csvRows(data: string): CopyCell[][] {
  const out: CopyCell[][] = [];
  let row: CopyCell[] = [];
  let i = 0;
  while (i < data.length) {
    let value = '';
    let quoted = false;
    if (data[i] === '"') {
      quoted = true;
      i++;
      while (i < data.length) {
        if (data[i] === '"' && data[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (data[i] === '"') {
          i++;
          break;
        } else value += data[i++];
      }
    }
    while (i < data.length && data[i] !== ',' && data[i] !== '\n') value += data[i++];
    row.push(!quoted && value === '' ? null : value);
    if (data[i] === ',') {
      i++;
      continue;
    }
    i++;
    out.push(row);
    row = [];
  }
  return out;
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

function binaryRows(data: Buffer): CopyCell[][] {
  if (!data.subarray(0, SIGNATURE.length).equals(SIGNATURE))
    throw new Error('not binary COPY data');
  let pos = SIGNATURE.length + 4;
  pos += 4 + data.readInt32BE(pos);
  const out: CopyCell[][] = [];
  for (;;) {
    const count = data.readInt16BE(pos);
    pos += 2;
    if (count < 0) return out;
    const row: CopyCell[] = [];
    for (let i = 0; i < count; i++) {
      const len = data.readInt32BE(pos);
      pos += 4;
      row.push(len < 0 ? null : data.toString('hex', pos, pos + len));
      pos += Math.max(len, 0);
    }
    out.push(row);
  }
}

/** Rows of a COPY TO STDOUT answer; a header line (`HEADER` in the statement) is dropped. */
export function copyRows(format: CopyFormat, data: Buffer, sql: string): CopyCell[][] {
  if (format === 'binary') return binaryRows(data);
  const rows = format === 'csv' ? csvRows(data.toString('utf8')) : textRows(data.toString('utf8'));
  return /\bheader\b/i.test(sql) ? rows.slice(1) : rows;
}
