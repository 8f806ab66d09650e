// POST /v1/credentials: a bearer OIDC access token in, a pgward credential and a ready connection
// string out. The verifier and minter are injected (api never imports proxy); the CLI wires them.

import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from '../../lib/log.js';
import type { ApiRoutes } from '../create-api.js';
import { type Problem, problemResponse, problems } from '../problem.js';

export interface CallerIdentity {
  readonly sub: string;
  readonly groups: readonly string[];
  readonly issuer: string;
  readonly via: 'jwt' | 'introspection' | 'credential' | 'password';
  readonly expiresAt: number | null;
}

export type BearerResult =
  | { readonly ok: true; readonly identity: CallerIdentity }
  | { readonly ok: false; readonly reason: string };

export type MintResult =
  | { readonly ok: true; readonly credential: string; readonly expiresAt: number }
  | { readonly ok: false; readonly reason: string };

export interface CredentialsRouteDeps {
  /** Verifies an OIDC access token exactly as the wire does (JWT, else introspection). */
  readonly verifyBearer: (token: string) => Promise<BearerResult>;
  readonly mint: (identity: CallerIdentity, database: string) => Promise<MintResult>;
  /** Gateway address written into connection strings. */
  readonly publicHost: string;
  readonly publicPort: number;
  /** Databases (upstream names) a credential may be asked for. */
  readonly databases: readonly string[];
  readonly log: Logger;
}

const MAX_BODY_BYTES = 4096;
const MAX_TOKEN_CHARS = 16384;
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

/** RFC 6750 §3: a 401 names the scheme (and why) in WWW-Authenticate. */
function unauthorized(c: Context, detail: string, error?: 'invalid_token'): Response {
  const problem: Problem = { title: 'Unauthorized', status: 401, detail };
  const res = problemResponse(c, problem);
  res.headers.set('www-authenticate', error ? `Bearer error="${error}"` : 'Bearer');
  return res;
}

export function connectionString(
  host: string,
  port: number,
  user: string,
  secret: string,
  database: string,
): string {
  const h = host.includes(':') ? `[${host}]` : host;
  const enc = encodeURIComponent;
  return `postgresql://${enc(user)}:${enc(secret)}@${h}:${port}/${enc(database)}?sslmode=require`;
}

export function credentialsRoutes(deps: CredentialsRouteDeps): ApiRoutes {
  const known = new Set(deps.databases);
  const log = deps.log.child({ route: 'credentials' });
  return (app) => {
    app.post(
      '/v1/credentials',
      bodyLimit({
        maxSize: MAX_BODY_BYTES,
        onError: () => {
          throw problems.badRequest(`the body is larger than ${MAX_BODY_BYTES} bytes`);
        },
      }),
      async (c) => {
        const header = c.req.header('authorization') ?? '';
        const match = header.length <= MAX_TOKEN_CHARS ? BEARER.exec(header) : null;
        if (match === null) return unauthorized(c, 'a bearer access token is required');
        const verdict = await deps.verifyBearer(match[1]!);
        if (!verdict.ok) {
          // SECURITY: the caller learns only that the token is not valid; the log has the reason.
          log.warn('credential request refused', { reason: verdict.reason });
          return unauthorized(c, 'the access token is not valid', 'invalid_token');
        }
        const database = await databaseFrom(c);
        if (!known.has(database)) throw problems.notFound(`no database named "${database}"`);
        const minted = await deps.mint(verdict.identity, database);
        if (!minted.ok) {
          log.warn('credential not minted', { sub: verdict.identity.sub, reason: minted.reason });
          throw problems.forbidden(minted.reason);
        }
        log.info('credential minted', {
          sub: verdict.identity.sub,
          database,
          expires_at: new Date(minted.expiresAt).toISOString(),
        });
        c.header('cache-control', 'no-store');
        return c.json({
          credential: minted.credential,
          expires_at: new Date(minted.expiresAt).toISOString(),
          connection_string: connectionString(
            deps.publicHost,
            deps.publicPort,
            verdict.identity.sub,
            minted.credential,
            database,
          ),
        });
      },
    );
  };
}

/** The body is `{"database": "<name>"}` and nothing else. */
async function databaseFrom(c: Context): Promise<string> {
  if (!(c.req.header('content-type') ?? '').startsWith('application/json')) {
    throw problems.badRequest('the body must be application/json');
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw problems.badRequest('the body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw problems.badRequest('the body must be a JSON object');
  }
  const { database, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) {
    throw problems.badRequest(`unknown properties: ${Object.keys(rest).join(', ')}`);
  }
  if (typeof database !== 'string' || database.length === 0 || database.length > 63) {
    throw problems.badRequest('"database" must be a database name');
  }
  return database;
}
