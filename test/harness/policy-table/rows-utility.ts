// Utility statements: EXPLAIN (ANALYZE runs the statement), SELECT INTO / CREATE TABLE AS, COPY in
// every direction, file and server functions, DDL, GRANT, ALTER SYSTEM, LISTEN/NOTIFY, maintenance,
// LOCK and DO blocks.
import { allowed, blocked, type PolicyRow } from './row.js';

const T = 'access.table';
const DDL = 'guardrail.ddl';
/** Risky functions are never implicit: the denial names the guardrail before the missing grant. */
const FILES = 'guardrail.file_functions';
const SERVER = 'guardrail.server_functions';
const MAINT = 'guardrail.maintenance';
const PROGRAM_MARK = '/tmp/pgward-policy-table-program-ran';
const COPY_OUT = '/tmp/pgward-policy-table-copy-out.csv';
const X = {} as const;

export const UTILITY_ROWS: readonly PolicyRow[] = [
  // EXPLAIN shows a plan and runs nothing; EXPLAIN ANALYZE runs the statement and is judged as it.
  allowed('explain-select', 'EXPLAIN SELECT * FROM orders', { subset: true }),
  allowed('explain-unbounded-delete', 'EXPLAIN DELETE FROM orders', {
    subset: true,
    unchanged: true,
    note: 'plan only: nothing is deleted',
  }),
  allowed('explain-analyze-off', 'EXPLAIN (ANALYZE off) DELETE FROM orders', { unchanged: true }),
  allowed('explain-select-secrets', 'EXPLAIN SELECT * FROM secrets', {
    note: 'plan only, by design (walk-utility): the plan is not the data',
  }),
  allowed('explain-analyze-select', 'EXPLAIN ANALYZE SELECT count(*) FROM orders'),
  allowed('explain-analyze-bounded-delete', 'EXPLAIN ANALYZE DELETE FROM orders WHERE id = 15', {
    mutates: true,
  }),
  blocked(
    'explain-analyze-unbounded-delete',
    'EXPLAIN ANALYZE DELETE FROM orders',
    'guardrail.unbounded_delete',
    {
      subset: true,
    },
  ),
  blocked(
    'explain-analyze-numeric-true',
    'EXPLAIN (ANALYZE 1) DELETE FROM orders',
    'guardrail.unbounded_delete',
  ),
  blocked(
    'explain-analyze-delete-secrets',
    'EXPLAIN (ANALYZE, COSTS OFF) DELETE FROM secrets WHERE id = 1',
    T,
    {
      subset: true,
    },
  ),
  blocked(
    'explain-analyse-spelling',
    "EXPLAIN ANALYSE UPDATE customers SET name = 'x' WHERE id = 1",
    T,
  ),
  blocked(
    'explain-analyze-json-secrets',
    'EXPLAIN (ANALYZE true, FORMAT JSON) SELECT * FROM secrets',
    T,
  ),
  blocked(
    'explain-analyze-create-table-as',
    'EXPLAIN ANALYZE CREATE TABLE pt_x AS SELECT * FROM orders',
    DDL,
  ),

  // SELECT INTO and CREATE TABLE AS create tables.
  blocked('select-into', 'SELECT * INTO pt_copy FROM orders', 'guardrail.ddl', {
    subset: true,
    note: 'also DDL; the denial names the ungranted INSERT into the new table',
  }),
  blocked('select-into-temp', 'SELECT * INTO TEMP pt_tmp FROM orders', 'guardrail.ddl'),
  blocked('create-table-as', 'CREATE TABLE pt_cta AS SELECT * FROM orders', DDL, { subset: true }),
  blocked(
    'create-temp-table-as-secrets',
    'CREATE TEMP TABLE pt_cta2 AS SELECT * FROM secrets',
    DDL,
  ),
  blocked(
    'create-materialized-view',
    'CREATE MATERIALIZED VIEW pt_mv AS SELECT * FROM orders',
    DDL,
  ),

  // COPY: STDOUT/STDIN judged like the equivalent read/write plus `copy`; files and programs never.
  allowed('copy-orders-to-stdout', 'COPY orders TO STDOUT', {
    simple: true,
    skip: { 'postgres.js': 'COPY TO STDOUT needs .readable()' },
  }),
  allowed('copy-query-to-stdout', 'COPY (SELECT id FROM orders WHERE id < 3) TO STDOUT', {
    simple: true,
    skip: { 'postgres.js': 'COPY TO STDOUT needs .readable()' },
  }),
  blocked('copy-customers-to-stdout', 'COPY customers TO STDOUT', T, {
    subset: true,
    note: 'customers is granted for select, not copy',
  }),
  blocked('copy-secrets-query-to-stdout', 'COPY (SELECT * FROM secrets) TO STDOUT', T, {
    subset: true,
  }),
  blocked('copy-secrets-from-stdin', 'COPY secrets FROM STDIN', T, { subset: true }),
  blocked('copy-audit-log-from-stdin', 'COPY audit_log (id, msg) FROM STDIN WITH (FORMAT csv)', T),
  blocked('copy-customers-from-stdin', 'COPY customers FROM STDIN', T),
  blocked(
    'copy-to-program',
    `COPY orders TO PROGRAM 'touch ${PROGRAM_MARK}'`,
    'guardrail.copy_program',
    {
      subset: true,
      absentFiles: [PROGRAM_MARK],
    },
  ),
  blocked('copy-from-program', "COPY orders FROM PROGRAM 'echo 1'", 'guardrail.copy_program'),
  blocked(
    'copy-query-to-program',
    `COPY (SELECT 1) TO PROGRAM 'touch ${PROGRAM_MARK}'`,
    'guardrail.copy_program',
    {
      absentFiles: [PROGRAM_MARK],
    },
  ),
  blocked('copy-to-file', `COPY orders TO '${COPY_OUT}'`, 'guardrail.copy_file', {
    subset: true,
    absentFiles: [COPY_OUT],
  }),
  blocked('copy-from-file', "COPY orders FROM '/etc/hostname'", 'guardrail.copy_file'),
  blocked(
    'copy-secrets-to-file',
    `COPY (SELECT * FROM secrets) TO '${COPY_OUT}'`,
    'guardrail.copy_file',
    {
      absentFiles: [COPY_OUT],
    },
  ),

  // File and server functions, however they are spelled.
  blocked('pg-read-file', "SELECT pg_read_file('/etc/passwd')", FILES, { ...X, subset: true }),
  blocked(
    'pg-read-file-qualified',
    "SELECT pg_catalog.pg_read_file('postgresql.conf', 0, 100)",
    FILES,
    X,
  ),
  blocked('pg-read-file-upper', "SELECT PG_READ_FILE('postgresql.conf')", FILES, X),
  blocked('pg-read-file-quoted', `SELECT "pg_read_file"('postgresql.conf')`, FILES, X),
  blocked('pg-read-binary-file', "SELECT pg_read_binary_file('postgresql.conf')", FILES, X),
  blocked('pg-ls-dir', "SELECT * FROM pg_ls_dir('.')", FILES, { ...X, subset: true }),
  blocked('pg-stat-file', "SELECT (pg_stat_file('postgresql.conf')).size", FILES, X),
  blocked('lo-import', "SELECT lo_import('/etc/passwd')", FILES, { ...X, subset: true }),
  blocked('lo-export', "SELECT lo_export(1, '/tmp/pgward-policy-table-lo')", FILES, X),
  blocked(
    'read-file-in-subquery',
    "SELECT id FROM orders WHERE customer = (SELECT pg_read_file('/etc/hostname'))",
    FILES,
    X,
  ),
  blocked('pg-terminate-backend', 'SELECT pg_terminate_backend(pg_backend_pid())', SERVER, {
    subset: true,
  }),
  blocked('pg-cancel-backend', 'SELECT pg_cancel_backend(1)', SERVER),
  blocked('pg-reload-conf', 'SELECT pg_reload_conf()', SERVER, X),
  blocked('pg-switch-wal', 'SELECT pg_switch_wal()', SERVER, X),
  blocked(
    'dblink',
    "SELECT * FROM dblink('dbname=postgres', 'select 1') AS t(x int)",
    'guardrail.dynamic_sql',
    {
      ...X,
      subset: true,
    },
  ),
  blocked(
    'dblink-exec',
    "SELECT dblink_exec('dbname=postgres', 'DROP TABLE orders')",
    'guardrail.dynamic_sql',
    X,
  ),
  blocked(
    'query-to-xml',
    "SELECT query_to_xml('select * from secrets', true, false, '')",
    'guardrail.dynamic_sql',
    {
      subset: true,
    },
  ),
  blocked('load-library', "LOAD 'plpgsql'", SERVER),
  allowed('advisory-lock', 'SELECT pg_advisory_lock(42), pg_advisory_unlock(42)'),
  allowed('pg-sleep-zero', 'SELECT pg_sleep(0)'),

  // DDL, privileges and server configuration.
  blocked('create-table', 'CREATE TABLE pt_new (id int)', DDL, { subset: true }),
  blocked('create-temp-table', 'CREATE TEMP TABLE pt_temp (id int)', DDL),
  blocked('alter-table-add-column', 'ALTER TABLE orders ADD COLUMN pwned int', DDL, {
    subset: true,
  }),
  blocked('alter-table-rename', 'ALTER TABLE secrets RENAME TO orders2', DDL),
  blocked('alter-table-disable-rls', 'ALTER TABLE secrets DISABLE ROW LEVEL SECURITY', DDL),
  blocked('drop-table', 'DROP TABLE orders', DDL, { subset: true }),
  blocked('drop-table-if-exists-cascade', 'DROP TABLE IF EXISTS secrets CASCADE', DDL),
  blocked('drop-schema-cascade', 'DROP SCHEMA other CASCADE', DDL),
  blocked('create-index', 'CREATE INDEX ON orders (customer)', DDL),
  blocked('create-view', 'CREATE VIEW pt_v AS SELECT * FROM secrets', DDL),
  blocked(
    'create-function',
    'CREATE FUNCTION pt_f() RETURNS int LANGUAGE sql AS $$ DELETE FROM secrets; SELECT 1 $$',
    DDL,
  ),
  blocked('create-extension', 'CREATE EXTENSION IF NOT EXISTS dblink', DDL),
  blocked('create-schema', 'CREATE SCHEMA pt_evil', DDL),
  blocked('comment-on-table', "COMMENT ON TABLE orders IS 'pwned'", DDL),
  blocked('truncate', 'TRUNCATE orders', 'guardrail.truncate', { subset: true }),
  blocked('truncate-secrets', 'TRUNCATE secrets', 'guardrail.truncate'),
  blocked(
    'truncate-only-cascade',
    'TRUNCATE TABLE ONLY orders RESTART IDENTITY CASCADE',
    'guardrail.truncate',
  ),
  blocked('grant-select', 'GRANT SELECT ON secrets TO PUBLIC', 'guardrail.grant_revoke', {
    subset: true,
  }),
  blocked('revoke-all', 'REVOKE ALL ON orders FROM PUBLIC', 'guardrail.grant_revoke'),
  blocked(
    'grant-all-in-schema',
    'GRANT ALL ON ALL TABLES IN SCHEMA public TO PUBLIC',
    'guardrail.grant_revoke',
  ),
  blocked(
    'alter-default-privileges',
    'ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC',
    'guardrail.grant_revoke',
  ),
  blocked('alter-system', "ALTER SYSTEM SET work_mem = '1GB'", 'guardrail.alter_system', {
    subset: true,
  }),
  blocked('alter-system-reset-all', 'ALTER SYSTEM RESET ALL', 'guardrail.alter_system'),

  // LISTEN/NOTIFY are not guarded; maintenance is.
  allowed('listen', 'LISTEN pt_channel', { subset: true }),
  allowed('notify', "NOTIFY pt_channel, 'hello'"),
  allowed('pg-notify', "SELECT pg_notify('pt_channel', 'hi')"),
  allowed('unlisten', 'UNLISTEN *'),
  blocked('vacuum', 'VACUUM orders', MAINT, { subset: true }),
  blocked('vacuum-full', 'VACUUM FULL secrets', MAINT),
  blocked('analyze', 'ANALYZE orders', MAINT),
  blocked('reindex', 'REINDEX TABLE orders', MAINT),
  blocked('cluster', 'CLUSTER orders USING orders_pkey', MAINT),
  blocked('checkpoint', 'CHECKPOINT', MAINT),

  // LOCK and DO.
  allowed('lock-granted-table', 'BEGIN; LOCK TABLE orders IN SHARE MODE; COMMIT', { multi: true }),
  blocked('lock-ungranted-table', 'BEGIN; LOCK TABLE secrets IN ACCESS EXCLUSIVE MODE; COMMIT', T, {
    multi: true,
  }),
  blocked('do-block-dml', 'DO $$ BEGIN DELETE FROM secrets; END $$', 'guardrail.do_block', {
    subset: true,
  }),
  blocked('do-block-harmless', "DO 'BEGIN NULL; END'", 'guardrail.do_block'),
  blocked(
    'do-block-dynamic',
    "DO LANGUAGE plpgsql $body$ BEGIN EXECUTE 'DROP TABLE orders'; END $body$",
    'guardrail.do_block',
  ),
  blocked('do-block-after-comment', '/* select */ DO $$ BEGIN END $$', 'guardrail.do_block'),
];
