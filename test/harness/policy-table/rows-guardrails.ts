// Guardrails on writes (no WHERE, EXPLAIN row estimates on the 5,000-row `big`), approval triggers
// (svc-ops deleting; anyone writing billing), absurd nesting, and the lax policy, where SQL-level
// PREPARE and search_path changes are allowed so that the analyzer's tracking of them is what decides.
import { APPROVED_DELETE } from './fixture.js';
import { allowed, blocked, needsApproval, type PolicyRow } from './row.js';

const T = 'access.table';
const DEL = 'guardrail.unbounded_delete';
const UPD = 'guardrail.unbounded_update';
const ROWS = 'guardrail.explain_rows';
const OPS = 'approval.ops_delete';
const DEEP = 'guardrail.too_deep';
const PARSE = 'guardrail.parse_error';
const N = 10_000;

const lax = { policy: 'lax' } as const;

export const GUARDRAIL_ROWS: readonly PolicyRow[] = [
  // DELETE and UPDATE without a real WHERE.
  blocked('delete-no-where', 'DELETE FROM orders', DEL, { subset: true }),
  blocked('delete-where-true', 'DELETE FROM orders WHERE true', DEL),
  blocked('delete-where-constant', 'DELETE FROM orders WHERE 1 = 1', DEL),
  blocked('delete-where-not-false', 'DELETE FROM orders WHERE NOT false', DEL),
  blocked('delete-no-where-returning', 'DELETE FROM orders RETURNING *', DEL),
  blocked('delete-no-where-only-alias', 'DELETE FROM ONLY "public"."orders" AS o', DEL),
  blocked(
    'delete-no-where-in-cte',
    'WITH d AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM d',
    DEL,
    {
      subset: true,
    },
  ),
  blocked('update-no-where', "UPDATE orders SET note = 'all'", UPD, { subset: true }),
  blocked('update-where-constant', "UPDATE orders SET note = 'x' WHERE 'a' = 'a'", UPD),
  blocked(
    'update-no-where-in-cte',
    "WITH u AS (UPDATE orders SET note = 'c' RETURNING id) SELECT 1",
    UPD,
  ),
  blocked(
    'merge-on-true-delete',
    'MERGE INTO orders o USING (SELECT 1 AS k) s ON true WHEN MATCHED THEN DELETE',
    DEL,
    {},
  ),

  // The EXPLAIN row estimate (limit 1,000) on big (5,000 rows, ANALYZEd).
  allowed('big-count', 'SELECT count(*) FROM big'),
  blocked('big-delete-most', 'DELETE FROM big WHERE id > 0', ROWS, { subset: true }),
  blocked('big-update-most', "UPDATE big SET v = 'x' WHERE id >= 1", ROWS),
  blocked('big-delete-self-equal', 'DELETE FROM big WHERE id = id', ROWS, {
    note: 'names a column, so not unbounded; the estimate still catches it',
  }),
  blocked('big-delete-subquery', 'DELETE FROM big WHERE id IN (SELECT id FROM big)', ROWS),
  blocked('explain-analyze-big-delete', 'EXPLAIN ANALYZE DELETE FROM big WHERE id > 0', ROWS, {
    subset: true,
    note: 'refused for the right rule, though because no estimate could be had (see explain-analyze-bounded-delete)',
  }),
  allowed('big-update-unchanged', 'UPDATE big SET v = v WHERE id = 1', { subset: true }),
  allowed('big-delete-none', 'DELETE FROM big WHERE id > 100000', { subset: true }),
  allowed('big-delete-few', 'DELETE FROM big WHERE id BETWEEN 4990 AND 5000', { mutates: true }),
  allowed('big-update-some', "UPDATE big SET v = 'y' WHERE id < 100", { mutates: true }),
  blocked(
    'big-delete-most-in-cte',
    'WITH d AS (DELETE FROM big WHERE id > 0 RETURNING 1) SELECT count(*) FROM d',
    ROWS,
    {},
  ),

  // Approval triggers: svc-ops deleting (approval.ops_delete), anyone writing billing.
  allowed('ops-read', 'SELECT count(*) FROM orders', { user: 'ops', subset: true }),
  allowed('ops-update-unchanged', 'UPDATE orders SET note = note WHERE id = 20', {
    user: 'ops',
    subset: true,
  }),
  needsApproval('ops-delete', 'DELETE FROM orders WHERE id = 21', OPS, { subset: true }),
  needsApproval(
    'ops-delete-in-cte',
    'WITH d AS (DELETE FROM orders WHERE id = 22 RETURNING id) SELECT * FROM d',
    OPS,
  ),
  needsApproval(
    'ops-explain-analyze-delete',
    'EXPLAIN ANALYZE DELETE FROM orders WHERE id = 23',
    OPS,
    {
      subset: true,
    },
  ),
  needsApproval('ops-delete-after-select', 'SELECT 1; DELETE FROM orders WHERE id = 24', OPS, {
    multi: true,
  }),
  needsApproval('ops-delete-big', 'DELETE FROM big WHERE id > 0', OPS),
  needsApproval('ops-delete-approved-other-text', APPROVED_DELETE.toLowerCase(), OPS, {
    note: 'the approval is for the exact text',
  }),
  allowed('ops-delete-approved', APPROVED_DELETE, { user: 'ops', mutates: true }),
  allowed('ops-explain-delete', 'EXPLAIN DELETE FROM orders WHERE id = 25', {
    user: 'ops',
    unchanged: true,
  }),
  blocked('ops-delete-no-where', 'DELETE FROM orders', DEL, { user: 'ops', subset: true }),
  blocked('ops-delete-secrets', 'DELETE FROM secrets WHERE id = 1', T, { user: 'ops' }),
  blocked('ops-insert-not-granted', "INSERT INTO orders VALUES (6000, 'o', 1, NULL)", T, {
    user: 'ops',
  }),
  blocked('ops-copy-not-granted', 'COPY orders TO STDOUT', T, { user: 'ops', subset: true }),
  needsApproval(
    'billing-insert',
    'INSERT INTO billing.invoices VALUES (3, 30)',
    'approval.billing_writes',
    {
      user: 'agent',
      subset: true,
    },
  ),
  allowed('billing-read', 'SELECT * FROM billing.invoices'),

  // Absurd nesting and unparsable text: refused before parsing or walking; the session lives on. The
  // policy names the specific fail-closed rule, but the denial names the generic guardrail.unknown_node.
  // Simple protocol: over the extended one PostgreSQL's own Parse error arrives first (see split-protocol).
  blocked('deep-parentheses', `SELECT ${'('.repeat(N)}1${')'.repeat(N)}`, DEEP, {
    subset: true,
    simple: true,
  }),
  blocked('deep-subselects', `SELECT ${'(SELECT '.repeat(N)}1${')'.repeat(N)}`, DEEP, {
    simple: true,
  }),
  blocked('deep-plus-chain', `SELECT 1${' + 1'.repeat(N)}`, PARSE, {
    subset: true,
    simple: true,
  }),
  blocked('deep-not-chain', `SELECT ${'NOT '.repeat(N)}true`, PARSE, {
    simple: true,
  }),
  blocked('deep-array-brackets', `SELECT ARRAY${'['.repeat(N)}1${']'.repeat(N)}`, PARSE, {
    simple: true,
  }),
  blocked('deep-case', `SELECT ${'CASE WHEN true THEN '.repeat(N)}1${' END'.repeat(N)}`, PARSE, {
    simple: true,
  }),
  blocked('syntax-error', 'SELEC * FROM orders', PARSE, {
    subset: true,
    simple: true,
  }),

  // The lax policy: SQL-level PREPARE/EXECUTE and search_path changes are judged, not refused.
  allowed('lax-prepare-select', 'PREPARE lx_sel(int) AS SELECT * FROM orders WHERE id = $1', {
    ...lax,
    subset: true,
  }),
  allowed('lax-execute-select', 'EXECUTE lx_sel(1)', {
    ...lax,
    subset: true,
    after: ['lax-prepare-select'],
  }),
  blocked('lax-prepare-secrets', 'PREPARE lx_bad AS SELECT * FROM secrets', T, {
    ...lax,
    subset: true,
  }),
  blocked('lax-execute-refused-prepare', 'EXECUTE lx_bad', 'guardrail.unknown_node', {
    ...lax,
    subset: true,
    after: ['lax-prepare-secrets'],
  }),
  allowed('lax-prepare-delete', 'PREPARE lx_del(int) AS DELETE FROM orders WHERE id = $1', {
    ...lax,
  }),
  allowed(
    'lax-prepare-insert',
    "PREPARE lx_ins(int) AS INSERT INTO orders VALUES ($1, 'p', 0, NULL)",
    lax,
  ),
  allowed('lax-execute-insert', 'EXECUTE lx_ins(7000)', {
    ...lax,
    mutates: true,
    after: ['lax-prepare-insert'],
  }),
  blocked('lax-prepare-unbounded', 'PREPARE lx_all AS DELETE FROM orders', DEL, lax),
  blocked('lax-execute-unbounded', 'EXECUTE lx_all', 'guardrail.unknown_node', {
    ...lax,
    after: ['lax-prepare-unbounded'],
  }),
  blocked(
    'lax-create-table-as-execute',
    'CREATE TABLE lx_t AS EXECUTE lx_sel(1)',
    'guardrail.ddl',
    {
      ...lax,
      after: ['lax-prepare-select'],
    },
  ),
  allowed('lax-set-search-path', 'SET search_path = other', { ...lax, subset: true }),
  blocked('lax-unqualified-now-other', 'SELECT * FROM orders', T, {
    ...lax,
    subset: true,
    after: ['lax-set-search-path'],
    note: 'orders now means other.orders',
  }),
  blocked('lax-execute-after-search-path', 'EXECUTE lx_sel(1)', T, {
    ...lax,
    after: ['lax-prepare-select', 'lax-set-search-path'],
    note: 'PostgreSQL re-parses a prepared statement when search_path changed; so does the gateway',
  }),
  allowed('lax-qualified-public', 'SELECT count(*) FROM public.orders', lax),
  allowed('lax-reset-search-path', 'RESET search_path', { ...lax, subset: true }),
  allowed('lax-unqualified-public-again', 'SELECT count(*) FROM orders', { ...lax, subset: true }),
  allowed('lax-set-config-search-path', "SELECT set_config('search_path', 'other', false)", lax),
  blocked('lax-unqualified-after-set-config', 'SELECT * FROM orders', T, {
    ...lax,
    after: ['lax-set-config-search-path'],
  }),
  allowed('lax-set-search-path-default', 'SET search_path TO DEFAULT', lax),
  blocked('lax-set-then-unqualified', 'SET search_path TO other; SELECT * FROM orders', T, {
    ...lax,
    multi: true,
    subset: true,
  }),
  allowed('lax-reset-after-refusal', 'SELECT count(*) FROM orders', {
    ...lax,
    note: 'the refused string changed nothing: search_path is still the default',
  }),
  allowed(
    'lax-set-local-in-transaction',
    'BEGIN; SET LOCAL search_path = other; SELECT count(*) FROM public.orders; COMMIT',
    {
      ...lax,
      multi: true,
    },
  ),
  allowed('lax-local-path-ended', 'SELECT count(*) FROM orders', lax),
  allowed('lax-set-rolled-back', 'BEGIN; SET search_path = other; ROLLBACK', {
    ...lax,
    multi: true,
  }),
  allowed('lax-rolled-back-path', 'SELECT count(*) FROM orders', lax),
  blocked('lax-set-role-still-refused', 'SET ROLE postgres', 'guardrail.role_change', lax),
];
