// Error text masking: an ErrorResponse answering a masked statement keeps its SQLSTATE, severity,
// position and object names but none of the text that may quote values; a constraint violation
// loses only its detail.
import { describe, expect, it } from 'vitest';
import {
  isIntegrityViolation,
  maskErrorResponse,
  withheldMessage,
  withholdRowDetail,
} from './error-masker.js';

type Fields = Record<string, string>;

/** An ErrorResponse body (fields only, as the session hands it over). */
function body(fields: Fields): Buffer {
  const parts = Object.entries(fields).map(([k, v]) => Buffer.from(`${k}${v}\0`));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

/** The fields of a whole ErrorResponse message, checking its framing. */
function fieldsOf(message: Buffer): Fields {
  expect(message[0]).toBe(0x45);
  expect(message.readInt32BE(1)).toBe(message.length - 1);
  expect(message.at(-1)).toBe(0);
  const out: Fields = {};
  let pos = 5;
  while (message[pos] !== 0) {
    const end = message.indexOf(0, pos + 1);
    out[String.fromCharCode(message[pos]!)] = message.toString('utf8', pos + 1, end);
    pos = end + 1;
  }
  expect(pos).toBe(message.length - 1);
  return out;
}

const CAST_ERROR: Fields = {
  S: 'ERROR',
  V: 'ERROR',
  C: '22P02',
  M: 'invalid input syntax for type integer: "078-05-1120"',
  W: 'SQL function "f" statement 1',
  F: 'numutils.c',
  L: '617',
  R: 'pg_strtoint32_safe',
};

const NOT_NULL: Fields = {
  S: 'ERROR',
  V: 'ERROR',
  C: '23502',
  M: 'null value in column "name" of relation "customers" violates not-null constraint',
  D: 'Failing row contains (1, null, 078-05-1120, ada@analytical.example).',
  s: 'public',
  t: 'customers',
  c: 'name',
  F: 'execMain.c',
  L: '2009',
  R: 'ExecConstraints',
};

describe('maskErrorResponse', () => {
  it('replaces the message of a data exception and drops its context', () => {
    expect(fieldsOf(maskErrorResponse(body(CAST_ERROR)))).toEqual({
      S: 'ERROR',
      V: 'ERROR',
      C: '22P02',
      M: withheldMessage('22P02'),
      F: 'numutils.c',
      L: '617',
      R: 'pg_strtoint32_safe',
    });
  });

  it('drops the detail of a constraint violation and keeps the object names', () => {
    const out = fieldsOf(maskErrorResponse(body(NOT_NULL)));
    expect(out).toMatchObject({ C: '23502', s: 'public', t: 'customers', c: 'name' });
    expect(out.M).toBe(withheldMessage('23502'));
    expect(out.D).toBeUndefined();
  });

  it('keeps message, detail and hint of classes raised before any row is read', () => {
    const syntax: Fields = {
      S: 'ERROR',
      C: '42703',
      M: 'column "sn" does not exist',
      H: 'Perhaps you meant to reference the column "customers.ssn".',
      P: '8',
      q: 'SELECT sn FROM customers',
      W: 'PL/pgSQL function f() line 3',
    };
    const out = fieldsOf(maskErrorResponse(body(syntax)));
    expect(out).toEqual({
      S: 'ERROR',
      C: '42703',
      M: syntax.M,
      H: syntax.H,
      P: '8',
    });
  });

  it('drops fields it does not know and gives a message to an error without one', () => {
    const out = fieldsOf(maskErrorResponse(body({ S: 'ERROR', C: 'XX000', Z: 'secret' })));
    expect(out).toEqual({ S: 'ERROR', C: 'XX000', M: withheldMessage('XX000') });
  });

  it('survives a malformed body (no terminator) without throwing', () => {
    const cut = Buffer.from('SERROR\0C22P02\0Minvalid input "078', 'utf8');
    const out = fieldsOf(maskErrorResponse(cut));
    expect(out).toEqual({ S: 'ERROR', C: '22P02', M: withheldMessage('22P02') });
  });
});

describe('withholdRowDetail', () => {
  it('keeps the message and names of a constraint violation, not its detail', () => {
    const out = fieldsOf(withholdRowDetail(body(NOT_NULL)));
    expect(out).toEqual({
      S: 'ERROR',
      V: 'ERROR',
      C: '23502',
      M: NOT_NULL.M,
      s: 'public',
      t: 'customers',
      c: 'name',
      F: 'execMain.c',
      L: '2009',
      R: 'ExecConstraints',
    });
    expect(isIntegrityViolation('23505')).toBe(true);
    expect(isIntegrityViolation('22P02')).toBe(false);
    expect(isIntegrityViolation(null)).toBe(false);
  });
});
