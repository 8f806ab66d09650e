// The policy table's world: a dedicated database owned by the upstream role, its fixture tables, the
// grants and approval the table assumes, a strict and a lax bundle, one gateway per bundle, and a
// superuser view of everything a refused statement could have changed.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { TEMPLATE_DIR } from '../../../policy/testing/template-bundle.js';
import { adminPsql, type Endpoint } from '../drivers/driver-env.js';
import { startGateway, TEST_USERS, type TestGateway } from '../gateway.js';
import { createTestPolicy, isoIn, type TestPolicy } from '../policy.js';
import type { PgInfo } from '../postgres.js';
import type { PolicyName, RowUser } from './row.js';

/** The one statement svc-ops holds an approval for (sha256 of exactly this text). */
export const APPROVED_DELETE = 'DELETE FROM orders WHERE id = 42';

/** (Re)creates every fixture object, as the upstream role so it owns them like an application would. */
function fixtureSql(upstreamRole: string): string {
  return `
    SET ROLE ${upstreamRole};
    DROP SCHEMA IF EXISTS other, billing CASCADE;
    DROP TABLE IF EXISTS orders, customers, secrets, big, "Orders", audit_log CASCADE;
    DROP FUNCTION IF EXISTS pt_total(int), pt_secret();
    DROP PROCEDURE IF EXISTS pt_proc(), pt_wipe();
    CREATE SCHEMA other;
    CREATE SCHEMA billing;
    CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, total numeric NOT NULL, note text);
    CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
    CREATE TABLE secrets (id int PRIMARY KEY, v text NOT NULL);
    CREATE TABLE big (id int PRIMARY KEY, v text);
    CREATE TABLE "Orders" (id int PRIMARY KEY, v text);
    CREATE TABLE audit_log (id int, msg text);
    CREATE TABLE other.orders (LIKE orders INCLUDING ALL);
    CREATE TABLE billing.invoices (id int PRIMARY KEY, amount numeric);
    CREATE VIEW secret_view AS SELECT * FROM secrets;
    CREATE FUNCTION pt_total(int) RETURNS numeric LANGUAGE sql AS 'SELECT total FROM orders WHERE id = $1';
    CREATE FUNCTION pt_secret() RETURNS text LANGUAGE sql AS 'SELECT v FROM secrets ORDER BY id LIMIT 1';
    CREATE PROCEDURE pt_proc() LANGUAGE sql AS 'SELECT 1';
    CREATE PROCEDURE pt_wipe() LANGUAGE sql AS 'DELETE FROM secrets';
    ${fixtureRowsSql()}
    ANALYZE big;
    RESET ROLE;
  `;
}

/** The fixture rows, re-inserted after a test that changed them. */
function fixtureRowsSql(): string {
  return `
    INSERT INTO orders SELECT g, 'c' || g, g * 10, NULL FROM generate_series(1, 50) g;
    INSERT INTO customers SELECT g, 'name ' || g FROM generate_series(1, 10) g;
    INSERT INTO secrets VALUES (1, 'top'), (2, 'secret'), (3, 'hidden');
    INSERT INTO big SELECT g, 'v' || g FROM generate_series(1, 5000) g;
    INSERT INTO "Orders" VALUES (1, 'mixed-case twin'), (2, 'twin');
    INSERT INTO other.orders VALUES (1, 'shadow', 0, 'not public'), (2, 'shadow', 0, NULL);
    INSERT INTO billing.invoices VALUES (1, 100), (2, 200);
  `;
}

const FIXTURE_TABLES = [
  'public.orders',
  'public.customers',
  'public.secrets',
  'public.big',
  'public."Orders"',
  'public.audit_log',
  'other.orders',
  'billing.invoices',
] as const;

/**
 * Everything a refused statement might have changed, as one sorted list: every relation, column,
 * index, function, schema, trigger, policy and ACL outside the system schemas (temporary ones
 * included), each fixture table's rows, large objects, settings stored for this database or the
 * upstream role, `pt_` roles and ALTER SYSTEM entries.
 */
export const fingerprintSql = (upstreamRole: string): string => `
  WITH facts(x) AS (
    SELECT format('rel %s.%s:%s:%s', n.nspname, c.relname, c.relkind, c.relacl)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
    UNION ALL
    SELECT format('col %s.%s.%s:%s', n.nspname, c.relname, a.attname, a.atttypid)
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('public', 'other', 'billing') AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('fn %s.%s:%s', n.nspname, p.proname, p.proacl)
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    UNION ALL SELECT format('ns %s:%s', nspname, nspacl) FROM pg_namespace
    UNION ALL SELECT format('triggers %s', count(*)) FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL SELECT format('policies %s', count(*)) FROM pg_policy
    UNION ALL SELECT format('large objects %s', count(*)) FROM pg_largeobject_metadata
    UNION ALL SELECT format('db setting %s', setconfig) FROM pg_db_role_setting
     WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
        OR setrole = '${upstreamRole}'::regrole
    UNION ALL SELECT format('role %s:%s', rolname, rolsuper) FROM pg_roles WHERE rolname LIKE 'pt\\_%'
    UNION ALL SELECT format('auto.conf %s', count(*)) FROM pg_file_settings
     WHERE sourcefile LIKE '%postgresql.auto.conf'
    ${FIXTURE_TABLES.map(
      (t) =>
        `UNION ALL SELECT format('rows %s:%s:%s', '${t.replaceAll("'", "''")}', count(*), md5(string_agg(x::text, '|' ORDER BY x::text))) FROM ${t} x`,
    ).join('\n    ')}
  )
  SELECT string_agg(x, E'\\n' ORDER BY x) AS fingerprint FROM facts`;

export interface PolicyTableEnv extends AsyncDisposable {
  readonly database: string;
  readonly gateways: Readonly<Record<PolicyName, TestGateway>>;
  /** Superuser connection to the dedicated database. */
  readonly admin: pg.Client;
  endpoint(policy: PolicyName, user: RowUser): Endpoint;
  fingerprint(): Promise<string>;
  /** Puts the fixture back exactly as created (after a test that changed it). */
  reset(): Promise<void>;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The template's guardrails, with the ones the lax policy leaves out removed. */
function laxGuardrails(): unknown {
  const file = path.join(TEMPLATE_DIR, 'data', 'guardrails.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { guardrails: Record<string, unknown> };
  delete doc.guardrails['guardrail.sql_prepare'];
  delete doc.guardrails['guardrail.search_path'];
  return doc;
}

async function buildPolicy(database: string, lax: boolean): Promise<TestPolicy> {
  return createTestPolicy({
    grants: [
      {
        id: 'pt-agent',
        subject: { sub: TEST_USERS.agent.name },
        database,
        objects: [
          { table: 'orders', actions: ['select', 'insert', 'update', 'delete', 'copy'] },
          { table: 'customers', actions: ['select'] },
          { table: 'big', actions: ['select', 'update', 'delete'] },
          { schema: 'billing', table: 'invoices', actions: ['select', 'insert'] },
        ],
        functions: ['public.pt_total', 'public.pt_proc'],
      },
      {
        id: 'pt-ops',
        subject: { group: 'ops' },
        database,
        objects: [
          { table: 'orders', actions: ['select', 'update', 'delete'] },
          { table: 'big', actions: ['select', 'delete'] },
        ],
      },
    ],
    approvals: [
      {
        id: 'pt-ops-delete-42',
        identity: { sub: TEST_USERS.ops.name },
        database,
        sql: APPROVED_DELETE,
        sha256: sha256(APPROVED_DELETE),
        not_before: isoIn(-3600),
        expires_at: isoIn(3600),
      },
    ],
    ...(lax ? { data: { 'guardrails.json': laxGuardrails() } } : {}),
  });
}

/** Creates database `name` with the fixture and starts a strict and a lax gateway in front of it. */
export async function startPolicyTable(info: PgInfo, name: string): Promise<PolicyTableEnv> {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(name)) throw new RangeError(`bad database name ${name}`);
  await adminPsql(info, [
    `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`,
    `CREATE DATABASE ${name} OWNER ${info.scramUser}`,
  ]);
  // Cleanups run newest first, on failure here or on dispose.
  const cleanups: (() => PromiseLike<unknown>)[] = [
    () => adminPsql(info, [`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]),
  ];
  const dispose = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  const keep = <T extends AsyncDisposable>(r: T): T => {
    cleanups.push(() => r[Symbol.asyncDispose]());
    return r;
  };
  try {
    const admin = new pg.Client({
      host: info.host,
      port: info.port,
      user: info.superuser,
      database: name,
    });
    await admin.connect();
    cleanups.push(() => admin.end());
    await admin.query(fixtureSql(info.scramUser));
    const upstream = {
      name,
      host: info.host,
      port: info.port,
      database: name,
      user: info.scramUser,
      password: { env: 'TEST_UPSTREAM_PASSWORD' },
      tls: { mode: 'verify-full', ca: { file: info.caFile }, servername: 'localhost' },
    };
    const [strictPolicy, laxPolicy] = await Promise.all([
      buildPolicy(name, false).then(keep),
      buildPolicy(name, true).then(keep),
    ]);
    const start = (p: TestPolicy) =>
      startGateway(info, {
        config: { upstreams: [upstream], policy: { bundle_dir: p.bundleDir } },
      });
    const gateways = {
      strict: keep(await start(strictPolicy)),
      lax: keep(await start(laxPolicy)),
    };
    return {
      database: name,
      gateways,
      admin,
      endpoint(policy, user) {
        const gw = gateways[policy];
        const u = TEST_USERS[user];
        return { host: gw.host, port: gw.port, user: u.name, password: u.password, database: name };
      },
      async fingerprint() {
        const { rows } = await admin.query<{ fingerprint: string }>(fingerprintSql(info.scramUser));
        return rows[0]?.fingerprint ?? '';
      },
      async reset() {
        await admin.query(
          `BEGIN; SET LOCAL ROLE ${info.scramUser};
           TRUNCATE ${FIXTURE_TABLES.join(', ')};
           ${fixtureRowsSql()}
           ANALYZE big;
           COMMIT;`,
        );
      },
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
