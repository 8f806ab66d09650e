// One route table for the API: each entry's path, parameters and response schema both register the Hono
// route (with parameter parsing and access control) and generate the OpenAPI 3.1 document, so the two
// cannot drift. @see https://spec.openapis.org/oas/v3.1.0

import type { Context, Hono, MiddlewareHandler } from 'hono';
import { problems } from './problem.js';

export type JsonSchema = Readonly<Record<string, unknown>>;

interface ParamBase {
  readonly name: string;
  readonly in: 'query' | 'path';
  readonly description: string;
  readonly required?: boolean;
}

/** A parameter and how its text is read; the OpenAPI schema is derived from the same entry. */
export type ParamSpec = ParamBase &
  (
    | { readonly type: 'string'; readonly maxLength: number; readonly format?: 'date-time' }
    | {
        readonly type: 'integer';
        readonly minimum: number;
        readonly maximum: number;
        readonly default?: number;
      }
    | { readonly type: 'enum'; readonly values: readonly string[]; readonly default?: string }
    /** Comma-separated values (style: form, explode: false). */
    | { readonly type: 'enum-list'; readonly values: readonly string[] }
  );

export type Access = 'auditor' | 'public';

export interface RouteSpec {
  readonly method: 'get';
  /** OpenAPI path template: `/v1/sessions/{id}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  readonly access: Access;
  readonly params?: readonly ParamSpec[];
  readonly response: {
    readonly description: string;
    readonly contentType: string;
    readonly schema: JsonSchema;
  };
  /** Other documented answers besides 200 and the ones access and parameters imply. */
  readonly errors?: readonly (404 | 503)[];
}

/** Parsed parameters: each read through the accessor of its declared type. */
export interface Params {
  string(name: string): string | undefined;
  integer(name: string): number | undefined;
  list(name: string): readonly string[] | undefined;
}

export type Handler = (c: Context, params: Params) => Response | Promise<Response>;
export type Handlers<T extends readonly RouteSpec[]> = Readonly<
  Record<T[number]['operationId'], Handler>
>;

const honoPath = (template: string) => template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1');

function parseParam(spec: ParamSpec, raw: string): string | number | readonly string[] {
  const bad = (why: string) => problems.badRequest(`parameter "${spec.name}" ${why}`);
  switch (spec.type) {
    case 'string':
      if (raw.length > spec.maxLength) throw bad(`is longer than ${spec.maxLength} characters`);
      if (spec.format === 'date-time' && Number.isNaN(Date.parse(raw)))
        throw bad('is not an RFC 3339 date-time');
      return raw;
    case 'integer': {
      const n = /^-?\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isInteger(n) || n < spec.minimum || n > spec.maximum)
        throw bad(`must be an integer from ${spec.minimum} to ${spec.maximum}`);
      return n;
    }
    case 'enum':
      if (!spec.values.includes(raw)) throw bad(`must be one of ${spec.values.join(', ')}`);
      return raw;
    case 'enum-list': {
      const items = raw.split(',').filter((s) => s !== '');
      const unknown = items.filter((s) => !spec.values.includes(s));
      if (unknown.length > 0 || items.length === 0)
        throw bad(`must be a comma-separated list of ${spec.values.join(', ')}`);
      return [...new Set(items)];
    }
  }
}

/** Reads the query and path parameters of a request against the route's declaration. */
export function readParams(c: Context, route: RouteSpec): Params {
  const declared = route.params ?? [];
  const queries = c.req.queries();
  for (const name of Object.keys(queries)) {
    if (!declared.some((p) => p.in === 'query' && p.name === name))
      throw problems.badRequest(`unknown query parameter "${name}"`);
  }
  const values = new Map<string, string | number | readonly string[]>();
  for (const spec of declared) {
    let raw: string | undefined;
    if (spec.in === 'path') raw = c.req.param(spec.name);
    else {
      const all = queries[spec.name] ?? [];
      if (all.length > 1) throw problems.badRequest(`parameter "${spec.name}" is repeated`);
      raw = all[0];
    }
    if (raw === undefined || raw === '') {
      if (spec.required === true) throw problems.badRequest(`parameter "${spec.name}" is required`);
      if ('default' in spec && spec.default !== undefined) values.set(spec.name, spec.default);
      continue;
    }
    values.set(spec.name, parseParam(spec, raw));
  }
  const typed = <T>(name: string, check: (v: unknown) => boolean): T | undefined => {
    if (!declared.some((p) => p.name === name))
      throw new Error(`route ${route.operationId} reads undeclared parameter ${name}`);
    const v = values.get(name);
    if (v !== undefined && !check(v))
      throw new Error(`route ${route.operationId} reads ${name} as the wrong type`);
    return v as T | undefined;
  };
  return {
    string: (name) => typed<string>(name, (v) => typeof v === 'string'),
    integer: (name) => typed<number>(name, (v) => typeof v === 'number'),
    list: (name) => typed<readonly string[]>(name, Array.isArray),
  };
}

/** Registers every route of the table; `guards` holds the middleware of each non-public access. */
export function registerRoutes<T extends readonly RouteSpec[]>(
  app: Hono,
  routes: T,
  handlers: Handlers<T>,
  guards: Readonly<Partial<Record<Exclude<Access, 'public'>, MiddlewareHandler>>> = {},
): void {
  for (const route of routes) {
    const handler = handlers[route.operationId as T[number]['operationId']];
    const run = (c: Context) => handler(c, readParams(c, route));
    if (route.access === 'public') {
      app.on(route.method.toUpperCase(), honoPath(route.path), run);
      continue;
    }
    const guard = guards[route.access];
    if (guard === undefined) throw new Error(`no guard for ${route.access} routes`);
    app.on(route.method.toUpperCase(), honoPath(route.path), guard, run);
  }
}

function paramSchema(p: ParamSpec): JsonSchema {
  switch (p.type) {
    case 'string':
      return { type: 'string', maxLength: p.maxLength, ...(p.format ? { format: p.format } : {}) };
    case 'integer':
      return {
        type: 'integer',
        minimum: p.minimum,
        maximum: p.maximum,
        ...(p.default !== undefined ? { default: p.default } : {}),
      };
    case 'enum':
      return { type: 'string', enum: [...p.values], ...(p.default ? { default: p.default } : {}) };
    case 'enum-list':
      return { type: 'array', items: { type: 'string', enum: [...p.values] }, minItems: 1 };
  }
}

const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };
const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details.',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
  },
};
const ERROR_TEXT: Record<number, string> = {
  400: 'A parameter is malformed or unknown.',
  401: 'No valid bearer access token (missing, malformed, expired, or from another issuer).',
  403: 'The token is valid but its groups do not include the auditor group.',
  404: 'No such resource.',
  500: 'An unexpected fault.',
  503: 'A dependency is unavailable.',
};

function operation(route: RouteSpec): JsonSchema {
  const codes = new Set<number>(route.errors ?? []);
  if ((route.params ?? []).some((p) => p.in === 'query')) codes.add(400);
  if (route.access !== 'public') for (const code of [401, 403, 503]) codes.add(code);
  codes.add(500);
  const responses: Record<string, unknown> = {
    200: {
      description: route.response.description,
      content: { [route.response.contentType]: { schema: route.response.schema } },
    },
  };
  for (const code of [...codes].sort())
    responses[code] = {
      description: ERROR_TEXT[code],
      content: { 'application/problem+json': { schema: PROBLEM_REF } },
    };
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(route.access === 'public' ? { security: [] } : { security: [{ bearerAuth: [] }] }),
    ...(route.params !== undefined && route.params.length > 0
      ? {
          parameters: route.params.map((p) => ({
            name: p.name,
            in: p.in,
            description: p.description,
            required: p.in === 'path' ? true : p.required === true,
            ...(p.type === 'enum-list' ? { style: 'form', explode: false } : {}),
            schema: paramSchema(p),
          })),
        }
      : {}),
    responses,
  };
}

export interface DocumentOptions {
  readonly title: string;
  readonly version: string;
  readonly description: string;
  readonly routes: readonly RouteSpec[];
  readonly schemas: Readonly<Record<string, JsonSchema>>;
}

export function openApiDocument(options: DocumentOptions): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of options.routes) {
    const item = paths[route.path] ?? {};
    paths[route.path] = item;
    if (item[route.method] !== undefined)
      throw new Error(`${route.method} ${route.path} is declared twice`);
    item[route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: { title: options.title, version: options.version, description: options.description },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'An OIDC access token from the configured issuer.',
        },
      },
      schemas: { Problem: PROBLEM_SCHEMA, ...options.schemas },
    },
  };
}

/**
 * Lifts a JSON Schema file's `definitions` into OpenAPI components named `<prefix><Name>`, rewriting
 * its local `#/definitions/x` references; the root schema (without $schema/$id) becomes `<prefix>`.
 */
export function componentsFrom(schema: JsonSchema, prefix: string): Record<string, JsonSchema> {
  const name = (def: string) => `${prefix}${def.charAt(0).toUpperCase()}${def.slice(1)}`;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/definitions/'))
        out[k] = `#/components/schemas/${name(v.slice('#/definitions/'.length))}`;
      else out[k] = rewrite(v);
    }
    return out;
  };
  const { $schema: _s, $id: _i, definitions, ...root } = schema as Record<string, unknown>;
  const out: Record<string, JsonSchema> = { [prefix]: rewrite(root) as JsonSchema };
  for (const [def, body] of Object.entries((definitions ?? {}) as Record<string, unknown>))
    out[name(def)] = rewrite(body) as JsonSchema;
  return out;
}
