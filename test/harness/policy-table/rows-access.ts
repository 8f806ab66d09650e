// Granted and ungranted reads and writes: joins, subqueries, CTEs (with DML inside), MERGE, views and
// user functions. svc-agent may read and write orders, read customers, and call pt_total / pt_proc.
import { allowed, blocked, type PolicyRow } from './row.js';

const T = 'access.table';
const F = 'access.function';

export const ACCESS_ROWS: readonly PolicyRow[] = [
  // Granted reads.
  allowed('read-orders', 'SELECT id, customer, total FROM orders WHERE id <= 5', { subset: true }),
  allowed('read-orders-star', 'SELECT * FROM orders ORDER BY id LIMIT 3'),
  allowed('read-customers', 'SELECT name FROM customers WHERE id = 1', { subset: true }),
  allowed('read-join', 'SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.id'),
  allowed('read-values', "VALUES (1, 'a'), (2, 'b')"),
  allowed('read-no-table', 'SELECT 1 AS one', { subset: true }),
  allowed('read-builtins', "SELECT lower('ABC'), now() IS NOT NULL, pg_backend_pid() > 0"),
  allowed('read-table-command', 'TABLE customers'),
  allowed('read-only-orders', 'SELECT count(*) FROM ONLY orders'),
  allowed('read-catalog', "SELECT relname FROM pg_class WHERE relname = 'orders'", {
    subset: true,
    note: 'implicit_catalog_reads: metadata drivers read needs no grant',
  }),
  allowed(
    'read-information-schema',
    "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders'",
  ),
  allowed('read-alias-named-secrets', 'SELECT secrets.id FROM orders AS secrets WHERE id = 1', {
    subset: true,
    note: 'an alias is not a table',
  }),
  allowed(
    'read-cte-shadows-table',
    'WITH secrets AS (SELECT * FROM orders) SELECT * FROM secrets',
    {
      subset: true,
      note: 'a CTE named like an ungranted table shadows it',
    },
  ),

  // Ungranted reads, however they are reached.
  blocked('read-secrets', 'SELECT * FROM secrets', T, { subset: true }),
  blocked('read-secrets-column', 'SELECT v FROM secrets WHERE id = 1', T),
  blocked(
    'read-secrets-scalar-subquery',
    'SELECT id, (SELECT v FROM secrets LIMIT 1) FROM orders',
    T,
    {
      subset: true,
    },
  ),
  blocked('read-secrets-in', 'SELECT * FROM orders WHERE id IN (SELECT id FROM secrets)', T),
  blocked(
    'read-secrets-exists',
    "SELECT 1 WHERE EXISTS (SELECT 1 FROM secrets WHERE v LIKE 't%')",
    T,
  ),
  blocked('read-secrets-union', 'SELECT customer FROM orders UNION ALL SELECT v FROM secrets', T),
  blocked(
    'read-secrets-lateral',
    'SELECT o.id, s.v FROM orders o, LATERAL (SELECT v FROM secrets x WHERE x.id = o.id) s',
    T,
  ),
  blocked('read-secrets-cte', 'WITH s AS (SELECT * FROM secrets) SELECT * FROM s', T),
  blocked(
    'read-cte-named-like-granted',
    'WITH orders AS (SELECT * FROM secrets) SELECT * FROM orders',
    T,
    {
      subset: true,
    },
  ),
  blocked('read-secrets-whole-row', 'SELECT s FROM secrets s', T),
  blocked('read-secrets-table-command', 'TABLE secrets', T),
  blocked('read-view-over-secrets', 'SELECT * FROM secret_view', T, {
    note: 'a view is an object of its own that needs its own grant',
  }),
  blocked('read-secrets-in-function-arg', 'SELECT length((SELECT v FROM secrets LIMIT 1))', T),
  blocked('read-other-schema', 'SELECT * FROM other.orders', T),
  blocked('read-pg-authid', 'SELECT rolname, rolpassword FROM pg_authid', T, {
    subset: true,
    note: 'only the listed catalog relations are implicit',
  }),
  blocked(
    'read-secrets-order-by',
    'SELECT id FROM orders ORDER BY (SELECT max(v) FROM secrets)',
    T,
  ),

  // Granted writes (they change the fixture).
  allowed('insert-orders', "INSERT INTO orders (id, customer, total) VALUES (1001, 'new', 1)", {
    mutates: true,
  }),
  allowed(
    'insert-orders-returning',
    "INSERT INTO orders VALUES (1002, 'r', 2, NULL) RETURNING id",
    {
      mutates: true,
    },
  ),
  allowed('update-orders', "UPDATE orders SET note = 'updated' WHERE id = 2", { mutates: true }),
  allowed('delete-orders', 'DELETE FROM orders WHERE id = 3', { mutates: true }),
  allowed(
    'upsert-orders',
    "INSERT INTO orders VALUES (4, 'x', 4, NULL) ON CONFLICT (id) DO UPDATE SET note = 'upsert'",
    { mutates: true },
  ),
  allowed(
    'update-orders-from-customers',
    'UPDATE orders o SET note = c.name FROM customers c WHERE c.id = o.id AND o.id = 5',
    { mutates: true },
  ),
  allowed(
    'cte-delete-orders',
    'WITH d AS (DELETE FROM orders WHERE id = 6 RETURNING id) SELECT count(*) FROM d',
    { mutates: true },
  ),
  allowed(
    'merge-orders',
    "MERGE INTO orders o USING (VALUES (7, 'merged')) s(id, n) ON o.id = s.id WHEN MATCHED THEN UPDATE SET note = s.n",
    { mutates: true },
  ),
  allowed('update-orders-no-change', 'UPDATE orders SET note = note WHERE id = 10', {
    subset: true,
  }),
  allowed('delete-orders-no-row', 'DELETE FROM orders WHERE id = 99999', { subset: true }),

  // Ungranted writes.
  blocked('insert-secrets', "INSERT INTO secrets VALUES (10, 'x')", T, { subset: true }),
  blocked('insert-customers-select-only', "INSERT INTO customers VALUES (100, 'x')", T),
  blocked('update-customers', "UPDATE customers SET name = 'x' WHERE id = 1", T, { subset: true }),
  blocked('delete-customers', 'DELETE FROM customers WHERE id = 1', T),
  blocked('update-secrets', "UPDATE secrets SET v = 'pwned' WHERE id = 1", T),
  blocked('delete-secrets', 'DELETE FROM secrets WHERE id = 1', T, { subset: true }),
  blocked('insert-other-schema', "INSERT INTO other.orders VALUES (9, 'x')", T),
  blocked(
    'insert-select-secrets',
    'INSERT INTO orders (id, customer, total) SELECT id + 2000, v, 0 FROM secrets',
    T,
    { subset: true },
  ),
  blocked(
    'update-from-secrets',
    'UPDATE orders o SET note = s.v FROM secrets s WHERE s.id = o.id',
    T,
  ),
  blocked(
    'update-set-subquery-secrets',
    'UPDATE orders SET note = (SELECT v FROM secrets WHERE id = 1) WHERE id = 1',
    T,
  ),
  blocked('delete-using-secrets', 'DELETE FROM orders o USING secrets s WHERE o.id = s.id', T),
  blocked(
    'insert-returning-secrets',
    "INSERT INTO orders VALUES (3000, 'x', 0, NULL) RETURNING (SELECT v FROM secrets LIMIT 1)",
    T,
  ),
  blocked(
    'cte-delete-secrets',
    'WITH d AS (DELETE FROM secrets WHERE id = 1 RETURNING *) SELECT * FROM d',
    T,
    {
      subset: true,
    },
  ),
  blocked(
    'cte-update-beside-select',
    "WITH x AS (UPDATE customers SET name = 'y' WHERE id = 2 RETURNING id) SELECT * FROM orders",
    T,
  ),
  blocked(
    'cte-nested-insert',
    "WITH a AS (WITH b AS (INSERT INTO secrets VALUES (11, 'n') RETURNING id) SELECT id FROM b) SELECT * FROM a",
    T,
  ),
  blocked(
    'merge-into-customers',
    "MERGE INTO customers c USING (VALUES (1)) s(id) ON c.id = s.id WHEN MATCHED THEN UPDATE SET name = 'm'",
    T,
  ),
  blocked(
    'merge-from-secrets',
    'MERGE INTO orders o USING secrets s ON o.id = s.id WHEN MATCHED THEN UPDATE SET note = s.v',
    T,
  ),

  // Functions and procedures: pg_catalog is implicit, anything else needs a grant.
  allowed('function-granted', 'SELECT pt_total(1)', { subset: true }),
  allowed('function-granted-qualified', 'SELECT public.pt_total(2)'),
  allowed('call-granted', 'CALL pt_proc()'),
  blocked('function-ungranted', 'SELECT pt_secret()', F, { subset: true }),
  blocked('function-ungranted-from', 'SELECT * FROM public.pt_secret()', F),
  blocked('function-ungranted-in-where', 'SELECT id FROM orders WHERE note = pt_secret()', F),
  blocked('call-ungranted', 'CALL pt_wipe()', F, { subset: true }),
];
