// Resolves RowDescription's (table OID, attribute number) to schema.table.column through pg_catalog,
// cached per upstream database; also lists a table's columns for COPY. Invalidated on DDL and bundle
// change, and by the row masker when a RowDescription shows the cache is stale (DDL it never saw).

import { serialize } from 'pg-protocol';
import type { SideConnection } from '../upstream/side-connection.js';

export interface RelationInfo {
  readonly schema: string;
  readonly table: string;
  /** attnum → column name (dropped columns absent). */
  readonly columns: ReadonlyMap<number, string>;
}

export interface ColumnOrigins {
  /** Cached relation, or undefined (then call load). */
  cached(oid: number): RelationInfo | undefined;
  /** Loads relations by OID into the cache. */
  load(oids: readonly number[]): Promise<void>;
  /**
   * Columns of schema.table in attnum order, for COPY; null when the relation does not exist. Read
   * afresh every time: a COPY has no RowDescription that would show a stale layout.
   */
  columnsOf(schema: string, table: string): Promise<readonly string[] | null>;
  /** Forgets everything (DDL passed, or the bundle changed). */
  invalidate(): void;
  /** Closes the catalog connection. */
  close(): void;
  readonly size: number;
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

export function createColumnOrigins(side: SideConnection, maxRelations = 10_000): ColumnOrigins {
  const cache = new Map<number, RelationInfo>();
  const store = (oid: number, info: RelationInfo) => {
    if (cache.size >= maxRelations) cache.delete(cache.keys().next().value!);
    cache.set(oid, info);
  };
  return {
    get size() {
      return cache.size;
    },
    cached: (oid) => cache.get(oid),
    async load(oids) {
      const wanted = [...new Set(oids)].filter(
        (o) => Number.isInteger(o) && o > 0 && !cache.has(o),
      );
      if (wanted.length === 0) return;
      const rows = await side.run(
        serialize.query(
          `SELECT c.oid, n.nspname, c.relname, a.attnum, a.attname FROM pg_catalog.pg_class c ` +
            `JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ` +
            `LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ` +
            `WHERE c.oid IN (${wanted.join(',')})`,
        ),
      );
      const found = new Map<
        number,
        { schema: string; table: string; columns: Map<number, string> }
      >();
      for (const [oid, schema, table, attnum, attname] of rows) {
        const key = Number(oid);
        let info = found.get(key);
        if (info === undefined) {
          info = { schema: schema ?? '', table: table ?? '', columns: new Map() };
          found.set(key, info);
        }
        if (attnum !== null && attnum !== undefined && attname !== null && attname !== undefined) {
          info.columns.set(Number(attnum), attname);
        }
      }
      for (const [oid, info] of found) store(oid, info);
    },
    async columnsOf(schema, table) {
      // SECURITY: never from a cache: DDL on another connection (unseen by the gateway) may have
      // moved a masked column to a position a cached list calls unmasked.
      const rows = await side.run(
        serialize.query(
          `SELECT a.attname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid ` +
            `JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ` +
            `WHERE n.nspname = ${quote(schema)} AND c.relname = ${quote(table)} AND a.attnum > 0 AND NOT a.attisdropped ` +
            `ORDER BY a.attnum`,
        ),
      );
      return rows.length === 0 ? null : rows.map((r) => r[0] ?? '');
    },
    invalidate() {
      cache.clear();
    },
    close: () => side.close(),
  };
}
