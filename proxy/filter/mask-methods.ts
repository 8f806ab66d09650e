// Masking methods applied to one value. Text-like columns get the method's text; every other type gets
// NULL, so a client never receives bytes it cannot decode as the column's type.

import { isUtf8 } from 'node:buffer';
import { createHmac } from 'node:crypto';

export const MASK_METHODS = ['redact', 'null', 'hash', 'partial', 'email'] as const;
export type MaskMethod = (typeof MASK_METHODS)[number];

export const REDACTED = '[redacted]';
const PARTIAL_KEEP = 4;
const HASH_HEX_CHARS = 32;

/** Most bytes `Masker.write` adds to a value: the masked form of n bytes fits in n + MASK_GROWTH. */
export const MASK_GROWTH = HASH_HEX_CHARS;

/** Type OIDs whose text and binary forms are both the plain UTF-8 text. */
const TEXT_LIKE = new Set([
  25, // text
  1043, // varchar
  1042, // bpchar
  19, // name
  705, // unknown (literals)
]);

export function isTextLike(typeOid: number): boolean {
  return TEXT_LIKE.has(typeOid);
}

export interface Masker {
  /** The masked value of `value` (UTF-8 text of the original) for a column of `typeOid`; null = SQL NULL. */
  mask(method: MaskMethod, value: string, typeOid: number): string | null;
  /**
   * The byte form of mask() for a text-like column, without a string round trip: writes the masked value
   * of the UTF-8 bytes `src[start, end)` at `out[at]` and returns its length (never more than
   * end - start + MASK_GROWTH, which the caller has room for), or -1 when this method or value has no
   * byte form (then mask() decides). Its bytes are exactly those of mask()'s result. Absent: always -1.
   */
  write?(
    method: MaskMethod,
    src: Buffer,
    start: number,
    end: number,
    out: Buffer,
    at: number,
  ): number;
}

/** `hashKey` keys the HMAC of the `hash` method: stable across the gateway's replicas when shared. */
export function createMasker(hashKey: Buffer): Masker {
  return {
    mask(method, value, typeOid) {
      if (method === 'null' || !isTextLike(typeOid)) return null;
      switch (method) {
        case 'redact':
          return REDACTED;
        case 'hash':
          return createHmac('sha256', hashKey)
            .update(value, 'utf8')
            .digest('hex')
            .slice(0, HASH_HEX_CHARS);
        case 'partial': {
          const chars = [...value];
          return chars.length <= PARTIAL_KEEP
            ? '*'.repeat(chars.length)
            : `****${chars.slice(-PARTIAL_KEEP).join('')}`;
        }
        case 'email': {
          const at = value.lastIndexOf('@');
          return at < 0 ? REDACTED : `***${value.slice(at)}`;
        }
      }
    },
    write(method, src, start, end, out, at) {
      switch (method) {
        case 'email':
          return writeEmail(src, start, end, out, at);
        case 'partial':
          return writePartial(src, start, end, out, at);
        case 'hash': {
          // The HMAC of the bytes is the HMAC of the text only when the bytes are the text's UTF-8.
          if (!validUtf8(src, start, end)) return -1;
          const digest = createHmac('sha256', hashKey).update(src.subarray(start, end)).digest();
          return out.write(digest.toString('hex', 0, HASH_HEX_CHARS / 2), at, 'latin1');
        }
        default:
          return -1;
      }
    },
  };
}

const AT_SIGN = 0x40;
const STAR = 0x2a;
const REDACTED_BYTES = Buffer.from(REDACTED);

/**
 * `email` on bytes: '***' and the domain from the last '@' on, or the redacted text without one. A 0x40
 * byte is '@' in UTF-8 and never part of another character, so the last one is where the text form cuts.
 */
function writeEmail(src: Buffer, start: number, end: number, out: Buffer, at: number): number {
  let cut = end - 1;
  let high = 0;
  for (; cut >= start; cut--) {
    const byte = src[cut]!;
    if (byte === AT_SIGN) break;
    high |= byte;
  }
  if (cut < start) return copyBytes(REDACTED_BYTES, 0, REDACTED_BYTES.length, out, at);
  // The text form decodes invalid UTF-8 to U+FFFD: such a domain takes that path.
  if (high >= 0x80 && !isUtf8(src.subarray(cut, end))) return -1;
  out[at] = STAR;
  out[at + 1] = STAR;
  out[at + 2] = STAR;
  return 3 + copyBytes(src, cut, end, out, at + 3);
}

/**
 * `partial` on bytes: the last PARTIAL_KEEP characters (code points, as the text form counts them) behind
 * '****', or one '*' per character for shorter values. In valid UTF-8 every code point starts with exactly
 * one byte that is not a continuation byte (10xxxxxx), so characters are counted from the end by those.
 */
function writePartial(src: Buffer, start: number, end: number, out: Buffer, at: number): number {
  if (!validUtf8(src, start, end)) return -1;
  let cut = end;
  let chars = 0;
  while (cut > start && chars < PARTIAL_KEEP) {
    cut--;
    if ((src[cut]! & 0xc0) !== 0x80) chars++;
  }
  if (cut === start) {
    for (let i = 0; i < chars; i++) out[at + i] = STAR;
    return chars;
  }
  for (let i = 0; i < PARTIAL_KEEP; i++) out[at + i] = STAR;
  return PARTIAL_KEEP + copyBytes(src, cut, end, out, at + PARTIAL_KEEP);
}

/** True when `src[start, end)` is valid UTF-8 (ASCII answered without leaving JavaScript). */
function validUtf8(src: Buffer, start: number, end: number): boolean {
  let high = 0;
  for (let i = start; i < end; i++) high |= src[i]!;
  return high < 0x80 || isUtf8(src.subarray(start, end));
}

/** Copies `src[start, end)` to `out[at]`; returns the byte count. Short copies stay in JavaScript. */
export function copyBytes(
  src: Buffer,
  start: number,
  end: number,
  out: Buffer,
  at: number,
): number {
  const n = end - start;
  if (n > 32) return src.copy(out, at, start, end);
  for (let i = 0; i < n; i++) out[at + i] = src[start + i]!;
  return n;
}
