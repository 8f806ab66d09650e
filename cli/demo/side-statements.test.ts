import { beforeAll, describe, expect, it } from 'vitest';
import { createSideStatementCheck } from './side-statements.js';

let isSide: (sql: string) => boolean;
beforeAll(async () => {
  isSide = await createSideStatementCheck();
});

describe('side statements: what may run inside another connection’s transaction', () => {
  it.each([
    'SELECT c.oid, n.nspname, c.relname, a.attnum, a.attname FROM pg_catalog.pg_class c ' +
      'JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_catalog.pg_attribute a ' +
      'ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped WHERE c.oid IN (16384,16390)',
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    'EXPLAIN (FORMAT JSON) DELETE FROM orders WHERE id = 42',
    'EXPLAIN (FORMAT JSON) UPDATE orders SET status = $1 WHERE id = $2',
    'SET search_path TO "public"',
  ])('accepts the gateway’s own lookups: %s', (sql) => {
    expect(isSide(sql)).toBe(true);
  });

  it.each([
    'SELECT * FROM orders',
    'SELECT * FROM public.customers JOIN pg_catalog.pg_class c ON true',
    'SELECT relname FROM pg_class',
    'SELECT pg_catalog.pg_sleep(1) FROM pg_catalog.pg_class',
    'SELECT oid FROM pg_catalog.pg_class FOR UPDATE',
    'SELECT * INTO copied FROM pg_catalog.pg_class',
    'WITH d AS (DELETE FROM orders RETURNING id) SELECT * FROM pg_catalog.pg_class',
    'EXPLAIN ANALYZE DELETE FROM orders',
    'EXPLAIN (ANALYZE, FORMAT JSON) DELETE FROM orders',
    'SET role TO postgres',
    'BEGIN',
    'SELECT 1; DELETE FROM orders',
    'not sql at all',
  ])('refuses anything that reads table data, writes, locks or runs code: %s', (sql) => {
    expect(isSide(sql)).toBe(false);
  });
});
