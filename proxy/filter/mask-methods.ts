// Masking methods applied to one value. Text-like columns get the method's text; every other type gets
// NULL, so a client never receives bytes it cannot decode as the column's type.

import { createHmac } from 'node:crypto';

export const MASK_METHODS = ['redact', 'null', 'hash', 'partial', 'email'] as const;
export type MaskMethod = (typeof MASK_METHODS)[number];

export const REDACTED = '[redacted]';
const PARTIAL_KEEP = 4;

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
          return createHmac('sha256', hashKey).update(value, 'utf8').digest('hex').slice(0, 32);
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
  };
}
