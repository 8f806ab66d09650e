// The auditor API end to end over HTTP: real traffic through a gateway with a real bundle recorded in
// chDB, bearer tokens from a real OpenID Provider verified by the configured identity chain, and every
// answer checked against the OpenAPI document the API itself serves.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApi } from '../../api/create-api.js';
import { auditRoutes } from '../../api/routes/audit.js';
import { opsRoutes } from '../../api/routes/audit-ops.js';
import { type ServedApi, serveApi } from '../../api/serve-api.js';
import type { StatementRecord } from '../../audit/record.js';
import { loadConfig } from '../../cli/config.js';
import { silentLogger } from '../../lib/log.js';
import { createMetricsRegistry } from '../../lib/metrics.js';
import { loadBundle } from '../../policy/bundle/load.js';
import { createIdentityFromConfig } from '../../proxy/auth/chain.js';
import { type AuditStack, startAuditStack } from '../harness/audit-stack.js';
import { gatewayConfigDoc, gatewayEnv } from '../harness/gateway.js';
import { IDP_AUDIENCE, startIdp, type TestIdp } from '../harness/idp.js';
import { openApiValidator, type ResponseValidator } from '../harness/openapi.js';

const info = inject('pg');
let stack: AuditStack;
let idp: TestIdp;
let otherIdp: TestIdp;
let api: ServedApi;
let validator: ResponseValidator;
let auditorToken: string;
let grants: unknown[];

beforeAll(async () => {
  const admin = new pg.Client({
    host: info.host,
    port: info.port,
    user: 'postgres',
    database: 'app',
  });
  await admin.connect();
  await admin.query(`
    drop table if exists api_orders, api_secrets;
    create table api_orders (id int primary key, customer text, email text, total int);
    create table api_secrets (id int primary key, v text);
    insert into api_orders select g, 'c' || g, 'c' || g || '@example.com', g from generate_series(1, 10) g;
    grant all on api_orders, api_secrets to ${info.scramUser};
  `);
  await admin.end();
  stack = await startAuditStack(info, {
    grants: [
      {
        id: 'agent-orders',
        subject: { sub: 'svc-agent' },
        objects: [{ table: 'api_orders', actions: ['select', 'update'] }],
      },
    ],
    data: { 'masking.json': { masking: { 'public.api_orders.email': 'redact' } } },
  });
  const agent = new pg.Client({ connectionString: stack.gw.url('agent') });
  await agent.connect();
  for (let i = 1; i <= 8; i++)
    await agent.query(`select id, customer from api_orders where id <= ${i}`);
  await agent.query('select id, email from api_orders where id = 1');
  await agent.query('select * from api_secrets').catch(() => 'blocked');
  await agent.query('update api_orders set total = 0').catch(() => 'blocked');
  await agent.end();
  await stack.settle();

  idp = await startIdp({ groups: { 'svc-agent': ['auditors'] } });
  otherIdp = await startIdp({ groups: { 'svc-agent': ['auditors'] } });
  auditorToken = await idp.token('agent');
  const doc = gatewayConfigDoc(info, {
    config: { identity: { oidc: { issuer: idp.issuer, audience: IDP_AUDIENCE } } },
  });
  const loaded = loadConfig(JSON.stringify(doc), gatewayEnv(info), process.cwd());
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const { bearer } = createIdentityFromConfig({ ...loaded, log: silentLogger });
  if (bearer === null) throw new Error('no bearer verifier');
  const bundle = await loadBundle(stack.policy.bundleDir);
  if (!bundle.ok) throw new Error(bundle.message);
  grants = (bundle.data as { grants: unknown[] }).grants;
  const metrics = createMetricsRegistry();
  metrics.gauge({ name: 'pgward_sessions', help: 'Open sessions.', collect: (g) => g.set(0) });
  const app = createApi({
    log: silentLogger,
    routes: [
      auditRoutes({
        store: stack.sink,
        verifyBearer: bearer,
        auditorGroup: 'auditors',
        activeGrants: () => grants,
        log: silentLogger,
      }),
      opsRoutes({
        health: () => ({ status: 'ok', bundle_revision: bundle.manifest.revision, store: 'ok' }),
        metrics: () => metrics.text(),
        version: 'test',
      }),
    ],
  });
  api = await serveApi(app, '127.0.0.1', 0);
  const served = await (await fetch(`${api.url}/openapi.json`)).json();
  validator = openApiValidator(served as Record<string, unknown>);
}, 120_000);

afterAll(async () => {
  await api?.close();
  await idp?.close();
  await otherIdp?.close();
  await stack?.[Symbol.asyncDispose]();
});

async function get(path: string, token: string | null = auditorToken, template?: string) {
  const res = await fetch(`${api.url}${path}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  const type = res.headers.get('content-type') ?? '';
  const body = type.includes('json')
    ? ((await res.json()) as Record<string, unknown>)
    : await res.text();
  const documented = template ?? path.split('?')[0]!;
  if (typeof body === 'object')
    expect(validator.check(documented, 'get', res.status, type, body), path).toEqual([]);
  return { status: res.status, type, body: body as Record<string, unknown>, res };
}

describe('auditor authentication with a real IdP', () => {
  const now = () => Math.floor(Date.now() / 1000);

  it('accepts an access token of the auditor group', async () => {
    expect((await get('/v1/statements?limit=1')).status).toBe(200);
  });

  it('refuses a missing, expired, foreign or wrong-group token with problem details', async () => {
    const claims = { iss: idp.issuer, aud: IDP_AUDIENCE, sub: 'svc-agent', groups: ['auditors'] };
    const expired = await idp.sign({ ...claims, iat: now() - 1200, exp: now() - 600 });
    const outsider = await idp.sign({
      ...claims,
      sub: 'mallory',
      groups: ['analytics'],
      exp: now() + 600,
    });
    const foreign = await otherIdp.token('agent');
    const cases = [
      [null, 401],
      [expired, 401],
      [foreign, 401],
      ['not.a.jwt', 401],
      [outsider, 403],
    ] as const;
    for (const [token, status] of cases) {
      for (const path of ['/v1/statements', '/v1/sessions', '/v1/stats', '/v1/grants']) {
        const r = await get(path, token);
        expect([path, r.status, r.type]).toEqual([path, status, 'application/problem+json']);
        expect(r.res.headers.get('www-authenticate')).toMatch(/^Bearer realm="pgward"/);
      }
    }
  });

  it('serves health, metrics, the document and the web view without a token', async () => {
    expect((await get('/healthz', null)).body).toMatchObject({ status: 'ok', store: 'ok' });
    expect((await get('/metrics', null)).body).toContain('pgward_sessions 0');
    expect((await get('/', null)).body).toContain('pgward audit');
  });
});

describe('the audit trail through the API', () => {
  it('walks every statement page by page without duplicates or gaps', async () => {
    const all = await get('/v1/statements?limit=1000');
    const expected = (all.body.items as StatementRecord[]).map((r) => `${r.session_id}:${r.seq}`);
    expect(expected).toHaveLength(11);
    const seen: string[] = [];
    let next: string | null = null;
    for (let page = 0; page < 20; page++) {
      const r = await get(`/v1/statements?limit=3${next === null ? '' : `&cursor=${next}`}`);
      seen.push(...(r.body.items as StatementRecord[]).map((x) => `${x.session_id}:${x.seq}`));
      next = r.body.next as string | null;
      if (next === null) break;
    }
    expect(seen).toEqual(expected);
  });

  it('filters the real records by outcome, table, identity and text', async () => {
    const items = async (q: string) =>
      (await get(`/v1/statements?${q}`)).body.items as StatementRecord[];
    expect((await items('outcome=blocked')).map((r) => r.command).sort()).toEqual([
      'SELECT',
      'UPDATE',
    ]);
    expect(await items('outcome=masked')).toMatchObject([
      { masked_columns: ['public.api_orders.email'], rows: 1 },
    ]);
    expect(await items('table=public.api_secrets')).toHaveLength(1);
    expect(await items('identity=svc-ops')).toHaveLength(0);
    expect(await items('identity=svc-agent&command=SELECT&outcome=allowed')).toHaveLength(8);
    expect(await items('q=where%20id%20%3C%3D%20%241')).toHaveLength(8);
  });

  it("replays a session's timeline and counts outcomes over time", async () => {
    const sessions = await get('/v1/sessions?state=closed');
    const [session] = sessions.body.items as { session_id: string; statement_count: number }[];
    expect(session?.statement_count).toBe(11);
    const timeline = await get(
      `/v1/sessions/${session?.session_id}`,
      undefined,
      '/v1/sessions/{id}',
    );
    const statements = timeline.body.statements as StatementRecord[];
    expect(statements.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(statements.slice(8).map((r) => r.outcome)).toEqual(['masked', 'blocked', 'blocked']);
    const stats = await get('/v1/stats?by=outcome');
    const rows = stats.body.rows as { key: string; count: number }[];
    const total = (k: string) => rows.filter((r) => r.key === k).reduce((n, r) => n + r.count, 0);
    expect([total('allowed'), total('masked'), total('blocked')]).toEqual([8, 1, 2]);
  });

  it("lists the serving bundle's grants as the grant schema describes them", async () => {
    const r = await get('/v1/grants');
    expect(r.body.items).toMatchObject([{ id: 'agent-orders', subject: { sub: 'svc-agent' } }]);
  });
});
