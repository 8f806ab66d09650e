// The OpenAPI document against the app it describes: every registered route is documented and every
// documented route registered, operation ids are unique, path parameters match the templates, every
// $ref resolves, every schema compiles as JSON Schema 2020-12, and the OAS 3.1 structure holds.
// (No OpenAPI 3.1 meta-schema ships in node_modules, so the structure is checked field by field.)
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/log.js';
import { openApiValidator } from '../test/harness/openapi.js';
import { createApi } from './create-api.js';
import { auditRoutes } from './routes/audit.js';
import { apiDocument, opsRoutes } from './routes/audit-ops.js';

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

const doc = apiDocument('1.2.3') as unknown as Doc;
const app = createApi({
  log: silentLogger,
  routes: [
    auditRoutes({
      store: { command: async () => {}, select: async () => [] },
      verifyBearer: async () => ({ ok: false, reason: 'no' }),
      auditorGroup: 'auditors',
      activeGrants: () => [],
      log: silentLogger,
    }),
    opsRoutes({
      health: () => ({ status: 'ok', bundle_revision: 'abc', store: 'ok' }),
      metrics: () => '',
      version: '1.2.3',
    }),
  ],
});
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

describe('the OpenAPI document', () => {
  it('documents exactly the registered routes', () => {
    const registered = app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z_]\w*)/g, '{$1}')}`);
    const documented = Object.entries(doc.paths).flatMap(([p, item]) =>
      Object.keys(item).map((m) => `${m} ${p}`),
    );
    expect([...new Set(registered)].sort()).toEqual(documented.sort());
    expect(documented).toContain('get /v1/sessions/{id}');
  });

  it('has the OpenAPI 3.1 structure', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'pgward API', version: '1.2.3' });
    const ids: string[] = [];
    for (const [p, item] of Object.entries(doc.paths)) {
      expect(p).toMatch(/^\//);
      const templated = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        expect(METHODS).toContain(method);
        ids.push(String(op.operationId));
        const params = (op.parameters ?? []) as { name: string; in: string; required: boolean }[];
        expect(params.filter((x) => x.in === 'path').map((x) => x.name)).toEqual(templated);
        for (const x of params) {
          expect(['query', 'path']).toContain(x.in);
          if (x.in === 'path') expect(x.required).toBe(true);
        }
        const responses = op.responses as Record<string, { description?: string }>;
        expect(Object.keys(responses)).toContain('200');
        for (const [code, r] of Object.entries(responses)) {
          expect(code).toMatch(/^[1-5]\d\d$/);
          expect(typeof r.description).toBe('string');
        }
        const security = op.security as Record<string, unknown>[];
        for (const requirement of security)
          for (const scheme of Object.keys(requirement))
            expect(doc.components.securitySchemes).toHaveProperty(scheme);
        if (security.length > 0)
          expect(Object.keys(responses)).toEqual(expect.arrayContaining(['401', '403']));
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('resolves every $ref and compiles every schema as JSON Schema 2020-12', () => {
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref') refs.push(String(x));
          else walk(x);
        }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\/[A-Za-z0-9._-]+$/);
      expect(doc.components.schemas).toHaveProperty(ref.split('/').at(-1)!);
    }
    // Strict mode: an unknown keyword (a typo, an OpenAPI 3.0 `nullable`) fails the compile.
    const ajv = new Ajv2020({ strict: true, strictTypes: false, allowUnionTypes: true });
    addFormatsPlugin.default(ajv);
    const $defs = JSON.parse(
      JSON.stringify(doc.components.schemas).replaceAll('#/components/schemas/', '#/$defs/'),
    ) as Record<string, unknown>;
    ajv.addSchema({ $id: 'https://pgward.invalid/doc', $defs });
    for (const name of Object.keys($defs))
      expect(
        () => ajv.compile({ $ref: `https://pgward.invalid/doc#/$defs/${name}` }),
        name,
      ).not.toThrow();
    for (const item of Object.values(doc.paths))
      for (const op of Object.values(item))
        for (const p of (op.parameters ?? []) as { schema: object }[])
          expect(() => ajv.compile(p.schema)).not.toThrow();
  });

  it('rejects answers that do not match (the validator used by the route tests is not vacuous)', () => {
    const v = openApiValidator(doc);
    expect(
      v.check('/v1/statements', 'get', 200, 'application/json', { items: [], next: null }),
    ).toEqual([]);
    expect(
      v.check('/v1/statements', 'get', 200, 'application/json', { items: [{}], next: 1 }),
    ).not.toEqual([]);
    expect(
      v.check('/v1/grants', 'get', 401, 'application/problem+json', { title: 'x' }),
    ).not.toEqual([]);
  });
});

describe('public routes', () => {
  it('serves health, metrics, the document and the web view without a token', async () => {
    const health = await app.request('/healthz');
    expect(await health.json()).toEqual({ status: 'ok', bundle_revision: 'abc', store: 'ok' });
    const metrics = await app.request('/metrics');
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await (await app.request('/openapi.json')).json()).toEqual(doc);
    const page = await app.request('/');
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="web/app.js">');
    const script = await app.request('/web/app.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain('v1/sessions');
  });

  it('answers 503 with a problem when the gateway is down', async () => {
    const down = createApi({
      log: silentLogger,
      routes: [
        opsRoutes({
          health: async () => ({ status: 'down', bundle_revision: null, store: 'failing' }),
          metrics: () => '',
          version: '0',
          auditApi: false,
        }),
      ],
    });
    const res = await down.request('/healthz');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 503, health: 'down', store: 'failing' });
    const document = (await (await down.request('/openapi.json')).json()) as Doc;
    expect(Object.keys(document.paths)).not.toContain('/v1/statements');
  });
});
