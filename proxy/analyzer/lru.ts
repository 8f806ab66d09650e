// A bounded least-recently-used map: a Map keeps insertion order, so re-inserting on hit
// moves an entry to the young end and the oldest entry is always first.

export interface Lru<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  readonly size: number;
  clear(): void;
}

export function createLru<V>(capacity: number): Lru<V> {
  if (!Number.isInteger(capacity) || capacity < 0) {
    throw new RangeError(`cache capacity must be a non-negative integer, got ${capacity}`);
  }
  const map = new Map<string, V>();
  /** The key at the young end: a hit on it (the same statement again) need not move anything. */
  let newest: string | null = null;
  return {
    get(key) {
      const value = map.get(key);
      if (value !== undefined && key !== newest) {
        map.delete(key);
        map.set(key, value);
        newest = key;
      }
      return value;
    },
    set(key, value) {
      if (capacity === 0) return;
      map.delete(key);
      map.set(key, value);
      newest = key;
      if (map.size > capacity) {
        const oldest = map.keys().next();
        if (!oldest.done) map.delete(oldest.value);
      }
    },
    get size() {
      return map.size;
    },
    clear() {
      map.clear();
      newest = null;
    },
  };
}
