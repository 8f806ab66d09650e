// The masking table's world: a dedicated database with `customers` (known secrets in masked columns),
// `orders` and two views, a policy that masks customers and grants svc-agent select, copy, update and
// delete, one gateway, a recording tap in front of it, and the same database directly for comparison.
// Views: masking names columns, so a view is masked only by the entries that name its own columns
// (customers_v has them); a grant on customers does not cover a view (customers_raw_v is refused).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { TEMPLATE_DIR } from '../../../policy/testing/template-bundle.js';
import { adminPsql, type Endpoint } from '../drivers/driver-env.js';
import { startGateway, TEST_USERS, type TestGateway } from '../gateway.js';
import { createTestPolicy } from '../policy.js';
import type { PgInfo } from '../postgres.js';
import { startTap, type Tap } from '../tap.js';
import { CUSTOMER_MASKS, CUSTOMERS, customerInserts } from './secrets.js';

/** Recreates the fixture as the upstream role, so it owns the objects like an application would. */
export function fixtureSql(upstreamRole: string): string {
  const card = (id: number) => `'${CUSTOMERS.find((c) => c.id === id)?.card_number ?? ''}'`;
  return `
    SET ROLE ${upstreamRole};
    DROP VIEW IF EXISTS customers_v, customers_raw_v;
    DROP TABLE IF EXISTS customers, orders;
    CREATE TABLE customers (
      id int PRIMARY KEY, name text NOT NULL, score int, created_at timestamptz NOT NULL,
      ssn text NOT NULL UNIQUE, email text NOT NULL, phone varchar(32), card_number text,
      date_of_birth date, notes text);
    ${customerInserts()}
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, card_number text, total numeric(10, 2));
    INSERT INTO orders VALUES (10, 1, ${card(1)}, 12.50), (11, 2, ${card(2)}, 99.99), (12, 1, ${card(1)}, 5.00);
    CREATE VIEW customers_v AS SELECT id, name, ssn, email FROM customers;
    CREATE VIEW customers_raw_v AS SELECT id, name, ssn FROM customers;
    RESET ROLE;`;
}

/** schema.table.column → method: the customers columns, and the granted view's own entries. */
export const MASKING: Readonly<Record<string, string>> = {
  ...Object.fromEntries(
    Object.entries(CUSTOMER_MASKS).map(([c, m]) => [`public.customers.${c}`, m]),
  ),
  'public.customers_v.ssn': 'redact',
  'public.customers_v.email': 'email',
};

function templateData(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(TEMPLATE_DIR, 'data', file), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** The template's data with SQL PREPARE allowed and inference protection also on for `email`. */
function policyData(): Record<string, unknown> {
  const guardrails = templateData('guardrails.json') as { guardrails: Record<string, unknown> };
  delete guardrails.guardrails['guardrail.sql_prepare'];
  const settings = templateData('settings.json');
  return {
    'guardrails.json': guardrails,
    'masking.json': { masking: MASKING },
    'settings.json': {
      ...settings,
      masking_inference_protection: { redact: true, null: true, email: true },
    },
  };
}

export interface MaskingTableEnv extends AsyncDisposable {
  readonly database: string;
  readonly gw: TestGateway;
  /** Records every byte the gateway sends to clients that connect through `gateway`. */
  readonly tap: Tap;
  /** svc-agent through the tap and the gateway. */
  readonly gateway: Endpoint;
  /** The upstream role straight to PostgreSQL: what the statement returns unmasked. */
  readonly direct: Endpoint;
  /** Superuser connection to the dedicated database (DDL behind the gateway's back). */
  readonly admin: pg.Client;
  /** Puts the fixture back exactly as created. */
  reset(): Promise<void>;
}

/** Creates database `name` with the fixture and starts the gateway and the tap in front of it. */
export async function startMaskingTable(info: PgInfo, name: string): Promise<MaskingTableEnv> {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(name)) throw new RangeError(`bad database name ${name}`);
  await adminPsql(info, [
    `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`,
    `CREATE DATABASE ${name} OWNER ${info.scramUser}`,
  ]);
  const cleanups: (() => PromiseLike<unknown>)[] = [
    () => adminPsql(info, [`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]),
  ];
  const dispose = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
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
    const policy = await createTestPolicy({
      grants: [
        {
          id: 'mt-agent',
          subject: { sub: TEST_USERS.agent.name },
          database: name,
          objects: [
            { table: 'customers', actions: ['select', 'copy', 'update', 'delete'] },
            { table: 'orders', actions: ['select'] },
            { table: 'customers_v', actions: ['select'] },
          ],
        },
      ],
      data: policyData(),
    });
    cleanups.push(() => policy[Symbol.asyncDispose]());
    const upstream = {
      name,
      host: info.host,
      port: info.port,
      database: name,
      user: info.scramUser,
      password: { env: 'TEST_UPSTREAM_PASSWORD' },
      tls: { mode: 'verify-full', ca: { file: info.caFile }, servername: 'localhost' },
    };
    const gw = await startGateway(info, {
      config: { upstreams: [upstream], policy: { bundle_dir: policy.bundleDir } },
    });
    cleanups.push(() => gw[Symbol.asyncDispose]());
    const tap = await startTap(gw.port);
    cleanups.push(() => tap[Symbol.asyncDispose]());
    const agent = TEST_USERS.agent;
    return {
      database: name,
      gw,
      tap,
      admin,
      gateway: {
        host: '127.0.0.1',
        port: tap.port,
        user: agent.name,
        password: agent.password,
        database: name,
      },
      direct: {
        host: info.host,
        port: info.port,
        user: info.scramUser,
        password: info.scramPassword,
        database: name,
      },
      async reset() {
        await admin.query(fixtureSql(info.scramUser));
      },
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
