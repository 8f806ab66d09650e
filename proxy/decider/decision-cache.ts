// The judge's bounded decision cache: decisions by session scope, then by statement shape, evicted
// oldest first. A hit hashes only the statement's shape; the scope string is built once per session.

import type { Decision } from '../../policy/contracts.js';
import type { Verdict } from './judge.js';

export interface CacheEntry {
  readonly decision: Decision;
  /** Epoch milliseconds from which the entry is no longer used. */
  readonly validUntil: number;
  /** The statement's place in its request (facts.index, facts.count): part of what the entry is for. */
  readonly index: number;
  readonly count: number;
  /**
   * The row estimate the statement was judged with (facts.estimated_rows), null before any: a
   * decision taken with an estimate serves only statements of the same shape with the same estimate.
   */
  readonly estimatedRows: number | null;
  /** The verdict of a request that is this statement alone, folded once at its first such use. */
  single: Verdict | null;
}

export interface DecisionCache {
  /** The live entry for the statement of this shape, place and row estimate, if any. */
  get(
    scope: string,
    shape: string,
    index: number,
    count: number,
    nowMs: number,
    estimatedRows?: number | null,
  ): CacheEntry | undefined;
  /** Keeps the entry (replacing one for the same statement); the oldest entry goes when full. */
  set(scope: string, shape: string, entry: CacheEntry): void;
  readonly size: number;
}

/** Where an entry is kept, so the oldest can be removed from its scope. */
interface Place {
  readonly scope: string;
  readonly key: string;
}

/** `capacity` entries in all (0 disables the cache). */
export function createDecisionCache(capacity: number): DecisionCache {
  const scopes = new Map<string, Map<string, CacheEntry>>();
  /** Every entry, oldest first. */
  const order = new Map<CacheEntry, Place>();
  // The place is checked on every hit, so keys need not be unambiguous to be safe.
  const keyOf = (shape: string, index: number, count: number, rows: number | null) => {
    const placed = index === 0 && count === 1 ? shape : `${index}\u0000${count}\u0000${shape}`;
    return rows === null ? placed : `${rows}\u0005${placed}`;
  };

  const evictOldest = () => {
    const oldest = order.entries().next().value;
    if (oldest === undefined) return;
    const [entry, place] = oldest;
    order.delete(entry);
    const byShape = scopes.get(place.scope);
    if (byShape === undefined) return;
    byShape.delete(place.key);
    if (byShape.size === 0) scopes.delete(place.scope);
  };

  return {
    get size() {
      return order.size;
    },
    get(scope, shape, index, count, nowMs, estimatedRows = null) {
      const hit = scopes.get(scope)?.get(keyOf(shape, index, count, estimatedRows));
      if (hit === undefined || hit.index !== index || hit.count !== count) return undefined;
      // SECURITY: an estimate decided against max_rows; any other estimate (or none) is judged afresh.
      if (hit.estimatedRows !== estimatedRows) return undefined;
      return nowMs < hit.validUntil ? hit : undefined;
    },
    set(scope, shape, entry) {
      if (capacity <= 0) return;
      const key = keyOf(shape, entry.index, entry.count, entry.estimatedRows);
      const replaced = scopes.get(scope)?.get(key);
      if (replaced !== undefined) order.delete(replaced);
      else if (order.size >= capacity) evictOldest();
      let byShape = scopes.get(scope);
      if (byShape === undefined) {
        byShape = new Map();
        scopes.set(scope, byShape);
      }
      byShape.set(key, entry);
      order.set(entry, { scope, key });
    },
  };
}
