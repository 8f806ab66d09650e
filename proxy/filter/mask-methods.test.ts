// The byte forms of the masking methods: for every value they write exactly the UTF-8 of the text form's
// result (multi-byte characters, astral ones, invalid UTF-8 handed back to the text form), reading only
// their own value's bytes and staying within the room they promise.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createMasker,
  MASK_GROWTH,
  type Masker,
  type MaskMethod,
  REDACTED,
} from './mask-methods.js';

const masker = createMasker(Buffer.from('k'));
const VALUE_METHODS: readonly MaskMethod[] = ['email', 'partial', 'hash'];
const TEXT = 25;

/**
 * Runs the byte form on `value` placed between `before` and `after` (bytes it must not read), into an
 * output buffer filled with a marker; returns the bytes written, or null when it has no byte form.
 */
function writeBytes(
  m: Masker,
  method: MaskMethod,
  value: Buffer,
  before = Buffer.from('x@y'),
  after = Buffer.from('@z'),
): Buffer | null {
  const src = Buffer.concat([before, value, after]);
  const out = Buffer.alloc(value.length + MASK_GROWTH + 8, 0xee);
  const n = m.write!(method, src, before.length, before.length + value.length, out, 3);
  if (n < 0) return null;
  expect(n).toBeLessThanOrEqual(value.length + MASK_GROWTH);
  // Nothing outside its own room is touched.
  expect(out.subarray(0, 3).every((b) => b === 0xee)).toBe(true);
  expect(out.subarray(3 + n).every((b) => b === 0xee)).toBe(true);
  return out.subarray(3, 3 + n);
}

/** The text form's result as bytes (what the client would get before the byte forms existed). */
function textForm(method: MaskMethod, value: Buffer): Buffer {
  const text = masker.mask(method, value.toString('utf8'), TEXT);
  if (text === null) throw new Error('text methods never give NULL');
  return Buffer.from(text, 'utf8');
}

describe('byte forms of email, partial and hash', () => {
  it('keep characters, not bytes, for multi-byte values', () => {
    const cases: [MaskMethod, string, string][] = [
      ['partial', 'Zürich-Straße', '****raße'],
      ['partial', '€€€€€', '****€€€€'],
      ['partial', '𝄞𝄞𝄞𝄞𝄞𝄞', '****𝄞𝄞𝄞𝄞'],
      ['partial', '日本', '**'],
      ['partial', 'ab𝄞d', '****'],
      ['partial', '', ''],
      ['partial', '\uFEFFabcd', '****abcd'],
      ['email', 'jörg@bücher.de', '***@bücher.de'],
      ['email', 'a@b@exämple.org', '***@exämple.org'],
      ['email', '@', '***@'],
      ['email', 'no-at-sign', REDACTED],
      ['email', '', REDACTED],
    ];
    for (const [method, value, expected] of cases) {
      const bytes = Buffer.from(value);
      expect(writeBytes(masker, method, bytes)?.toString('utf8')).toBe(expected);
      expect(textForm(method, bytes).toString('utf8')).toBe(expected);
    }
  });

  it('read only their own value: an @ just before it does not count', () => {
    const value = Buffer.from('plain');
    expect(writeBytes(masker, 'email', value, Buffer.from('a@b.c'), Buffer.from('@d'))).toEqual(
      Buffer.from(REDACTED),
    );
    expect(writeBytes(masker, 'partial', Buffer.from('ab'), Buffer.from('xyz'))).toEqual(
      Buffer.from('**'),
    );
  });

  it('hand invalid UTF-8 back to the text form where it would change the result', () => {
    // A lone continuation byte in the kept part: the text form shows U+FFFD there.
    expect(writeBytes(masker, 'email', Buffer.from([0x61, 0x40, 0x80, 0x62]))).toBeNull();
    expect(writeBytes(masker, 'partial', Buffer.from([0x61, 0x62, 0x63, 0x64, 0xc3]))).toBeNull();
    expect(writeBytes(masker, 'hash', Buffer.from([0xff]))).toBeNull();
    // Outside the kept part it makes no difference: the byte form answers.
    expect(writeBytes(masker, 'email', Buffer.from([0xff, 0x40, 0x61]))).toEqual(
      Buffer.from('***@a'),
    );
    expect(writeBytes(masker, 'email', Buffer.from([0xff, 0xfe]))).toEqual(Buffer.from(REDACTED));
  });

  it('property: valid UTF-8 always has a byte form, equal to the text form', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALUE_METHODS),
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.string({ unit: 'grapheme' }),
          fc.stringMatching(/^[a-zé.]{0,6}@[a-zü.]{0,8}$/),
        ),
        (method, text) => {
          const value = Buffer.from(text, 'utf8');
          expect(writeBytes(masker, method, value)).toEqual(textForm(method, value));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: any bytes give the text form or no byte form at all', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALUE_METHODS),
        fc.uint8Array({ maxLength: 24 }),
        (method, raw) => {
          const value = Buffer.from(raw);
          const bytes = writeBytes(masker, method, value);
          if (bytes !== null) expect(bytes).toEqual(textForm(method, value));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('have no byte form for the constant methods', () => {
    for (const method of ['redact', 'null'] as const)
      expect(writeBytes(masker, method, Buffer.from('v'))).toBeNull();
  });
});
