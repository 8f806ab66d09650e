// Public operational routes: health, Prometheus metrics, the OpenAPI document (generated from the same
// route tables that register the routes) and the auditor web view (which calls the API with a token).

import type { Context } from 'hono';
import { METRICS_CONTENT_TYPE } from '../../lib/metrics.js';
import type { ApiRoutes } from '../create-api.js';
import { type Handler, openApiDocument, type RouteSpec, registerRoutes } from '../openapi.js';
import { problemResponse } from '../problem.js';
import { WEB_ASSETS, WEB_CSP, type WebAsset, webAsset } from '../web/assets.js';
import { AUDIT_SCHEMAS } from './audit-schemas.js';
import { AUDIT_ROUTES } from './audit-table.js';

export interface HealthReport {
  readonly status: 'ok' | 'degraded' | 'down';
  /** Revision of the serving policy bundle; null while none is served. */
  readonly bundle_revision: string | null;
  /** State of the audit store (for example "ok", "spooling", "failing"). */
  readonly store: string;
}

export interface OpsRouteDeps {
  readonly health: () => HealthReport | Promise<HealthReport>;
  /** The Prometheus text exposition (lib/metrics.ts MetricsRegistry.text). */
  readonly metrics: () => string;
  /** Written into the document's info.version. */
  readonly version: string;
  /** Document the auditor routes too (true when auditRoutes is mounted on the same app). */
  readonly auditApi?: boolean;
}

const text = (contentType: string, description: string) => ({
  description,
  contentType,
  schema: { type: 'string' },
});
const webRoute = (path: string, asset: WebAsset, operationId: string) =>
  ({
    method: 'get',
    path,
    operationId,
    summary: `The auditor web view: ${asset}.`,
    tag: 'web',
    access: 'public',
    response: text(WEB_ASSETS[asset].split(';')[0]!, asset),
  }) as const;

export const OPS_ROUTES = [
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    summary: 'Liveness and readiness: 200 unless down (503, a problem carrying the same fields).',
    tag: 'ops',
    access: 'public',
    response: {
      description: 'The gateway is up.',
      contentType: 'application/json',
      schema: { $ref: '#/components/schemas/Health' },
    },
    errors: [503],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics in the text exposition format.',
    tag: 'ops',
    access: 'public',
    response: text('text/plain', 'Metrics (version 0.0.4 text format).'),
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    summary: 'This OpenAPI 3.1 document.',
    tag: 'ops',
    access: 'public',
    response: {
      description: 'The document.',
      contentType: 'application/json',
      schema: { type: 'object' },
    },
  },
  webRoute('/', 'index.html', 'webIndex'),
  webRoute('/web/app.js', 'app.js', 'webScript'),
  webRoute('/web/app.css', 'app.css', 'webStyle'),
] as const satisfies readonly RouteSpec[];

/** The OpenAPI document of the routes an app serves. */
export function apiDocument(version: string, auditApi = true) {
  return openApiDocument({
    title: 'pgward API',
    version,
    description:
      'The pgward auditor API: statements, sessions, replay timelines, stats and grants from the audit trail. Audit routes need a bearer OIDC access token of the auditor group.',
    routes: [...(auditApi ? AUDIT_ROUTES : []), ...OPS_ROUTES],
    schemas: AUDIT_SCHEMAS,
  });
}

function serveAsset(asset: WebAsset): Handler {
  return (c: Context) => {
    c.header('content-security-policy', WEB_CSP);
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'no-referrer');
    c.header('cache-control', 'no-cache');
    return c.body(new Uint8Array(webAsset(asset)), 200, { 'content-type': WEB_ASSETS[asset] });
  };
}

export function opsRoutes(deps: OpsRouteDeps): ApiRoutes {
  const document = JSON.stringify(apiDocument(deps.version, deps.auditApi ?? true));
  return (app) =>
    registerRoutes(app, OPS_ROUTES, {
      health: async (c) => {
        const report = await deps.health();
        c.header('cache-control', 'no-store');
        if (report.status === 'down')
          return problemResponse(c, {
            title: 'Service Unavailable',
            status: 503,
            detail: 'the gateway is down',
            health: report.status,
            bundle_revision: report.bundle_revision,
            store: report.store,
          });
        return c.json(report);
      },
      metrics: (c) => {
        c.header('cache-control', 'no-store');
        return c.body(deps.metrics(), 200, { 'content-type': METRICS_CONTENT_TYPE });
      },
      openapi: (c) => c.body(document, 200, { 'content-type': 'application/json' }),
      webIndex: serveAsset('index.html'),
      webScript: serveAsset('app.js'),
      webStyle: serveAsset('app.css'),
    });
}
