// Session state under the strict policy: search_path and role changes (SET, RESET, set_config),
// other settings, SQL-level PREPARE/EXECUTE, cursors, transactions and multi-statement strings.
import { allowed, blocked, type PolicyRow } from './row.js';

const T = 'access.table';
const SP = 'guardrail.search_path';
const ROLE = 'guardrail.role_change';
const SETTINGS = 'guardrail.settings';
const UNKNOWN = 'guardrail.unknown_node';

export const SESSION_ROWS: readonly PolicyRow[] = [
  // search_path: every way of changing it is refused; the session keeps resolving names to public.
  allowed('show-search-path', 'SHOW search_path', { subset: true }),
  allowed('current-setting-search-path', "SELECT current_setting('search_path')"),
  blocked('set-search-path', 'SET search_path = other', SP, { subset: true }),
  blocked(
    'set-search-path-then-unqualified',
    'SET search_path TO other; SELECT * FROM orders',
    SP,
    {
      multi: true,
      subset: true,
    },
  ),
  blocked('set-local-search-path', 'SET LOCAL search_path = other', SP),
  blocked('set-search-path-quoted', 'SET search_path = "other", "$user"', SP),
  blocked('set-config-search-path', "SELECT set_config('search_path', 'other', false)", SP, {
    subset: true,
  }),
  blocked(
    'set-config-search-path-local',
    "SELECT set_config('search_path', 'other, public', true)",
    SP,
  ),
  blocked('set-config-search-path-upper', "SELECT set_config('SEARCH_PATH', 'other', false)", SP),
  blocked('reset-search-path', 'RESET search_path', SP),
  blocked('reset-all', 'RESET ALL', SP),
  blocked('discard-all', 'DISCARD ALL', SP),
  allowed('unqualified-still-public', 'SELECT count(*) FROM orders', {
    subset: true,
    note: 'after the refused changes, orders is still public.orders',
  }),
  blocked(
    'alter-role-set-search-path',
    'ALTER ROLE CURRENT_USER SET search_path = other',
    'guardrail.ddl',
  ),

  // Roles.
  allowed('current-user', 'SELECT current_user, session_user'),
  blocked('set-role', 'SET ROLE postgres', ROLE, { subset: true }),
  blocked('set-role-odd-case', 'SeT rOlE "postgres"', ROLE),
  blocked('set-local-role', 'SET LOCAL ROLE postgres', ROLE),
  blocked('set-session-role-none', 'SET SESSION ROLE NONE', ROLE),
  blocked('reset-role', 'RESET ROLE', ROLE, { subset: true }),
  blocked(
    'set-session-authorization',
    'SET SESSION AUTHORIZATION postgres',
    'guardrail.session_authorization',
    {
      subset: true,
    },
  ),
  blocked(
    'set-session-authorization-default',
    'SET SESSION AUTHORIZATION DEFAULT',
    'guardrail.session_authorization',
  ),
  blocked('reset-session-authorization', 'RESET SESSION AUTHORIZATION', ROLE),
  blocked('set-config-role', "SELECT set_config('role', 'postgres', false)", ROLE, {
    subset: true,
  }),
  blocked('set-config-role-upper-local', "SELECT set_config('ROLE', 'postgres', true)", ROLE),
  blocked(
    'set-config-session-authorization',
    "SELECT set_config('session_authorization', 'postgres', false)",
    ROLE,
  ),
  blocked('set-config-computed-name', "SELECT set_config(lower('ROLE'), 'postgres', false)", ROLE, {
    note: 'an unknown name could be any setting: every setting guardrail applies',
  }),
  blocked('create-role', 'CREATE ROLE pt_evil SUPERUSER LOGIN', 'guardrail.ddl'),
  blocked('alter-role-superuser', 'ALTER ROLE CURRENT_USER SUPERUSER', 'guardrail.ddl'),
  blocked(
    'grant-role-membership',
    'GRANT pg_read_server_files TO CURRENT_USER',
    'guardrail.grant_revoke',
    {
      subset: true,
    },
  ),

  // Other settings: only the harmless client ones may change.
  allowed('set-statement-timeout', "SET statement_timeout = '30s'", { subset: true }),
  allowed('set-application-name', "SET application_name = 'policy-table'"),
  allowed('set-local-lock-timeout', "SET LOCAL lock_timeout = '1s'"),
  allowed('reset-statement-timeout', 'RESET statement_timeout'),
  allowed('set-client-encoding-utf8', "SET client_encoding = 'UTF8'"),
  allowed('show-all', 'SHOW ALL'),
  blocked('set-work-mem', "SET work_mem = '64MB'", SETTINGS, { subset: true }),
  blocked('set-config-work-mem', "SELECT set_config('work_mem', '1MB', false)", SETTINGS),
  blocked('set-session-replication-role', 'SET session_replication_role = replica', SETTINGS),
  blocked('set-row-security-off', 'SET row_security = off', SETTINGS),
  blocked('set-log-statement', "SET log_statement = 'none'", SETTINGS),
  blocked('set-scs-off', 'SET standard_conforming_strings = off', 'guardrail.dynamic_sql', {
    subset: true,
    note: 'later statements would lex differently upstream',
  }),
  blocked('set-client-encoding-sjis', "SET client_encoding = 'SJIS'", 'guardrail.dynamic_sql'),

  // SQL-level PREPARE is refused; EXECUTE of a name never prepared fails closed.
  blocked(
    'prepare-allowed-select',
    'PREPARE p_ok(int) AS SELECT * FROM orders WHERE id = $1',
    'guardrail.sql_prepare',
    {
      subset: true,
    },
  ),
  blocked('execute-unprepared', 'EXECUTE p_ok(1)', UNKNOWN, {
    subset: true,
    after: ['prepare-allowed-select'],
  }),
  blocked('prepare-secrets', 'PREPARE p_bad AS SELECT * FROM secrets', 'guardrail.sql_prepare'),
  blocked('execute-never-prepared', 'EXECUTE p_bad', UNKNOWN),
  allowed('deallocate-all', 'DEALLOCATE ALL'),

  // Cursors: FETCH is judged as the query the cursor was declared for.
  allowed('declare-cursor', 'DECLARE c_ok CURSOR WITH HOLD FOR SELECT id FROM orders ORDER BY id', {
    subset: true,
  }),
  allowed('fetch-cursor', 'FETCH 2 FROM c_ok', { subset: true, after: ['declare-cursor'] }),
  allowed('move-cursor', 'MOVE 1 IN c_ok', { after: ['declare-cursor'] }),
  allowed('close-cursor', 'CLOSE c_ok', { after: ['declare-cursor'] }),
  blocked('fetch-closed-cursor', 'FETCH 1 FROM c_ok', UNKNOWN, { after: ['close-cursor'] }),
  blocked('declare-cursor-secrets', 'DECLARE c_bad CURSOR WITH HOLD FOR SELECT * FROM secrets', T, {
    subset: true,
  }),
  blocked('fetch-refused-cursor', 'FETCH ALL FROM c_bad', UNKNOWN, {
    subset: true,
    after: ['declare-cursor-secrets'],
  }),
  allowed(
    'cursor-in-transaction',
    'BEGIN; DECLARE c_tx CURSOR FOR SELECT * FROM customers; FETCH 1 FROM c_tx; COMMIT',
    { multi: true },
  ),
  blocked(
    'cursor-in-transaction-secrets',
    'BEGIN; DECLARE c_tx2 CURSOR FOR SELECT * FROM secrets; FETCH 1 FROM c_tx2; COMMIT',
    T,
    { multi: true },
  ),

  // Transactions and multi-statement strings: one refused statement and none of them runs.
  allowed('transaction-update', "BEGIN; UPDATE orders SET note = 'tx' WHERE id = 11; COMMIT", {
    multi: true,
    mutates: true,
  }),
  blocked(
    'transaction-with-refused-read',
    "BEGIN; UPDATE orders SET note = 'tx2' WHERE id = 12; SELECT * FROM secrets; COMMIT",
    T,
    { multi: true, subset: true },
  ),
  blocked(
    'insert-then-unbounded-delete',
    "INSERT INTO orders VALUES (5000, 'm', 1, NULL); DELETE FROM orders",
    'guardrail.unbounded_delete',
    { multi: true, subset: true },
  ),
  blocked(
    'update-then-drop',
    "UPDATE orders SET note = 'm' WHERE id = 13; DROP TABLE customers",
    'guardrail.ddl',
    {
      multi: true,
    },
  ),
  blocked('truncate-then-select', 'TRUNCATE secrets; SELECT 1', 'guardrail.truncate', {
    multi: true,
  }),
  allowed('two-selects', 'SELECT 1; SELECT count(*) FROM orders', { multi: true, subset: true }),
  allowed(
    'savepoint-rolled-back',
    "BEGIN; SAVEPOINT s; UPDATE orders SET note = 'sp' WHERE id = 14; ROLLBACK TO SAVEPOINT s; COMMIT",
    { multi: true, unchanged: true },
  ),
  allowed(
    'read-only-transaction',
    'START TRANSACTION READ ONLY; SELECT count(*) FROM orders; COMMIT',
    {
      multi: true,
    },
  ),
];
