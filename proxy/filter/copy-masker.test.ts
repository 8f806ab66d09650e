// COPY TO STDOUT masking per format: fields split exactly as the server writes them, masked fields
// re-encoded so the client's COPY parser reads them.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAnalyzer } from '../analyzer/analyzer.js';
import { type CopyPlan, copyFormatOf, maskCopyData } from './copy-masker.js';
import { createMasker } from './mask-methods.js';

const masker = createMasker(Buffer.from('k'));
beforeAll(async () => {
  await loadAnalyzer();
});

const body = (msg: Buffer | null) => (msg === null ? null : msg.subarray(5).toString('utf8'));

function plan(sql: string, methods: CopyPlan['methods'], all = false): CopyPlan {
  const format = copyFormatOf(sql);
  if (format === null) throw new Error('no format');
  return { format, methods, all, headerPending: format.header };
}

describe('copyFormatOf', () => {
  it('reads the format options the way the server does', () => {
    expect(copyFormatOf('copy t to stdout')).toMatchObject({
      format: 'text',
      delimiter: '\t',
      nullString: '\\N',
    });
    expect(copyFormatOf('COPY t TO STDOUT CSV HEADER')).toMatchObject({
      format: 'csv',
      delimiter: ',',
      header: true,
    });
    expect(
      copyFormatOf(
        `copy (select 1) to stdout with (format csv, delimiter ';', null 'NULL', quote '''')`,
      ),
    ).toMatchObject({ delimiter: ';', nullString: 'NULL', quote: "'" });
    expect(copyFormatOf('copy t to stdout (format binary)')?.format).toBe('binary');
    expect(copyFormatOf('select 1')).toBeNull();
    expect(copyFormatOf('copy t to stdout (format xml)')).toBeNull();
  });
});

describe('text format', () => {
  it('masks by position, keeps escapes and NULLs, escapes what it writes', () => {
    const p = plan('copy t to stdout', [null, 'redact', 'email', 'redact']);
    const out = maskCopyData(Buffer.from('1\ta\\tb\\\\c\tx@y.org\t\\N\n'), p, masker);
    expect(body(out)).toBe('1\t[redacted]\t***@y.org\t\\N\n');
  });

  it('custom delimiter and null string; non-text masks become the null string', () => {
    const p = plan(`copy t to stdout with (delimiter '|', null 'NULL')`, ['null', null]);
    expect(body(maskCopyData(Buffer.from('secret|2\n'), p, masker))).toBe('NULL|2\n');
  });

  it('all: every field becomes NULL', () => {
    const p = plan('copy t to stdout', [], true);
    expect(body(maskCopyData(Buffer.from('a\tb\n'), p, masker))).toBe('\\N\t\\N\n');
  });
});

describe('csv format', () => {
  it('keeps the header row, handles quoted fields with delimiters, quotes and newlines', () => {
    const p = plan('copy t to stdout (format csv, header)', [null, 'redact']);
    expect(maskCopyData(Buffer.from('id,secret\n'), p, masker)).toBeNull();
    const out = maskCopyData(Buffer.from('"a,""b""\nc","s,""e""cret"\n'), p, masker);
    expect(body(out)).toBe('"a,""b""\nc","[redacted]"\n');
  });

  it('an unquoted empty field is NULL and stays NULL', () => {
    const p = plan('copy t to stdout (format csv)', ['redact', 'redact']);
    expect(body(maskCopyData(Buffer.from(',""\n'), p, masker))).toBe(',"[redacted]"\n');
  });
});

describe('binary format', () => {
  const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
  const tuple = (values: (string | null)[]) => {
    const parts = [Buffer.from([0, values.length])];
    for (const v of values) {
      const len = Buffer.alloc(4);
      len.writeInt32BE(v === null ? -1 : Buffer.byteLength(v), 0);
      parts.push(len, Buffer.from(v ?? ''));
    }
    return Buffer.concat(parts);
  };

  it('masked fields become NULL; the header-only message passes; the trailer passes', () => {
    const p = plan('copy t to stdout (format binary)', [null, 'redact']);
    expect(maskCopyData(header, p, masker)).toBeNull();
    const out = maskCopyData(tuple(['keep', 'secret']), p, masker)!;
    expect(out.subarray(5)).toEqual(tuple(['keep', null]));
    const withHeader = maskCopyData(Buffer.concat([header, tuple(['k', 's'])]), p, masker)!;
    expect(withHeader.subarray(5)).toEqual(Buffer.concat([header, tuple(['k', null])]));
    expect(maskCopyData(Buffer.from([0xff, 0xff]), p, masker)).toBeNull();
  });
});
