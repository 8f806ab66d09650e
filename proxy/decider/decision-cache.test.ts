// The decision cache: entries by scope, shape, place and row estimate; a hit needs all four and a live
// entry; the oldest entry goes first when full; capacity 0 keeps nothing.
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../policy/contracts.js';
import { type CacheEntry, createDecisionCache } from './decision-cache.js';

const decision = (rule: string): Decision => ({
  allow: true,
  outcome: 'allowed',
  reasons: [{ rule, message: rule, enforce: false }],
  approval: { required: false, id: null },
  mask: {},
  grant_ids: [],
  limits: { max_rows: null, explain_max_rows: null },
  valid_until: null,
});

const entry = (
  rule: string,
  index = 0,
  count = 1,
  validUntil = 1_000,
  estimatedRows: number | null = null,
): CacheEntry => ({
  decision: decision(rule),
  validUntil,
  index,
  count,
  estimatedRows,
  single: null,
});

describe('decision cache', () => {
  it('answers only for the same scope, shape and place, while the entry lives', () => {
    const cache = createDecisionCache(10);
    const kept = entry('a');
    cache.set('scope-1', 'shape', kept);
    expect(cache.get('scope-1', 'shape', 0, 1, 999)).toBe(kept);
    expect(cache.get('scope-1', 'shape', 0, 1, 1_000)).toBeUndefined();
    expect(cache.get('scope-2', 'shape', 0, 1, 0)).toBeUndefined();
    expect(cache.get('scope-1', 'other', 0, 1, 0)).toBeUndefined();
    expect(cache.get('scope-1', 'shape', 0, 2, 0)).toBeUndefined();
    expect(cache.get('scope-1', 'shape', 1, 2, 0)).toBeUndefined();
  });

  it('never mistakes one place for another, even where the keys coincide', () => {
    const cache = createDecisionCache(10);
    // Shape "0\0 2\0 x" alone has the key that shape "x" has as statement 1 of 2.
    const alone = entry('alone', 0, 1);
    cache.set('s', '0\u00002\u0000x', alone);
    expect(cache.get('s', 'x', 0, 2, 0)).toBeUndefined();
    const second = entry('second', 0, 2);
    cache.set('s', 'x', second);
    expect(cache.get('s', 'x', 0, 2, 0)).toBe(second);
    expect(cache.get('s', '0\u00002\u0000x', 0, 1, 0)).toBeUndefined();
  });

  it('serves a decision taken with a row estimate only to the same estimate', () => {
    const cache = createDecisionCache(10);
    const one = entry('one row', 0, 1, 1_000, 1);
    cache.set('s', 'update', one);
    expect(cache.get('s', 'update', 0, 1, 0, 1)).toBe(one);
    expect(cache.get('s', 'update', 0, 1, 0, 2)).toBeUndefined();
    // Before its EXPLAIN the statement has no estimate: it never gets a decision that had one.
    expect(cache.get('s', 'update', 0, 1, 0, null)).toBeUndefined();
    expect(cache.get('s', 'update', 0, 1, 0)).toBeUndefined();
    const none = entry('no estimate');
    cache.set('s', 'update', none);
    expect(cache.get('s', 'update', 0, 1, 0)).toBe(none);
    expect(cache.get('s', 'update', 0, 1, 0, 1)).toBe(one);
    expect(cache.size).toBe(2);
  });

  it('never mistakes an estimated entry for another shape, even where the keys coincide', () => {
    const cache = createDecisionCache(10);
    // Shape "1\u0005x" without an estimate has the key that shape "x" has with an estimate of 1.
    const plain = entry('plain');
    cache.set('s', '1\u0005x', plain);
    expect(cache.get('s', 'x', 0, 1, 0, 1)).toBeUndefined();
    const estimated = entry('estimated', 0, 1, 1_000, 1);
    cache.set('s', 'x', estimated);
    expect(cache.get('s', 'x', 0, 1, 0, 1)).toBe(estimated);
    expect(cache.get('s', '1\u0005x', 0, 1, 0)).toBeUndefined();
  });

  it('drops the oldest entry when full; replacing an entry drops nothing else', () => {
    const cache = createDecisionCache(3);
    cache.set('s1', 'a', entry('a'));
    cache.set('s2', 'b', entry('b'));
    cache.set('s1', 'c', entry('c'));
    const replacement = entry('a2');
    cache.set('s1', 'c', replacement);
    expect(cache.size).toBe(3);
    expect(cache.get('s1', 'a', 0, 1, 0)).toBeDefined();
    cache.set('s3', 'd', entry('d'));
    expect(cache.size).toBe(3);
    expect(cache.get('s1', 'a', 0, 1, 0)).toBeUndefined();
    expect(cache.get('s2', 'b', 0, 1, 0)).toBeDefined();
    expect(cache.get('s1', 'c', 0, 1, 0)).toBe(replacement);
    expect(cache.get('s3', 'd', 0, 1, 0)).toBeDefined();
    // b is the oldest now; after it, the replaced c (re-kept later than b), then d.
    cache.set('s3', 'e', entry('e'));
    expect(cache.get('s2', 'b', 0, 1, 0)).toBeUndefined();
    cache.set('s3', 'f', entry('f'));
    expect(cache.get('s1', 'c', 0, 1, 0)).toBeUndefined();
    expect(cache.size).toBe(3);
  });

  it('keeps nothing with capacity 0', () => {
    const cache = createDecisionCache(0);
    cache.set('s', 'a', entry('a'));
    expect(cache.size).toBe(0);
    expect(cache.get('s', 'a', 0, 1, 0)).toBeUndefined();
  });
});
