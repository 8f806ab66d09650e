// Bearer authentication for the auditor API: an OIDC access token verified exactly as the wire verifies
// it (the verifier is injected; api never imports proxy), then membership of the configured group.
// @see https://www.rfc-editor.org/rfc/rfc6750#section-3 (WWW-Authenticate on 401 and 403)

import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from '../lib/log.js';
import { type Problem, problemResponse } from './problem.js';

/** The identity a verified token carries (the proxy's Identity is a structural subtype). */
export interface BearerIdentity {
  readonly sub: string;
  readonly groups: readonly string[];
  readonly issuer?: string;
}

export type BearerVerdict =
  | { readonly ok: true; readonly identity: BearerIdentity }
  | { readonly ok: false; readonly reason: string };

export type VerifyBearer = (token: string) => Promise<BearerVerdict>;

export interface RequireGroupOptions {
  readonly verifyBearer: VerifyBearer;
  /** The group a caller must belong to (config: the auditor group). */
  readonly group: string;
  readonly log: Logger;
  /** Realm named in WWW-Authenticate. */
  readonly realm?: string;
}

const MAX_TOKEN_CHARS = 16384;
/** RFC 6750 §2.1 b64token. */
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

function challenge(
  c: Context,
  realm: string,
  problem: Problem,
  error?: 'invalid_token' | 'insufficient_scope',
): Response {
  const res = problemResponse(c, problem);
  const params = [`realm="${realm}"`, ...(error !== undefined ? [`error="${error}"`] : [])];
  res.headers.set('www-authenticate', `Bearer ${params.join(', ')}`);
  res.headers.set('cache-control', 'no-store');
  return res;
}

/**
 * Middleware that lets a request through only with a valid bearer token whose groups include
 * `group`: no or malformed token → 401, invalid (expired, other issuer, bad signature) → 401
 * invalid_token, valid but not in the group → 403 insufficient_scope.
 */
export function requireGroup(options: RequireGroupOptions): MiddlewareHandler {
  const realm = options.realm ?? 'pgward';
  const log = options.log.child({ component: 'api-auth' });
  return async function requireGroupMiddleware(c, next) {
    const header = c.req.header('authorization') ?? '';
    const match = header.length <= MAX_TOKEN_CHARS ? BEARER.exec(header) : null;
    if (match === null)
      return challenge(c, realm, {
        title: 'Unauthorized',
        status: 401,
        detail: 'a bearer access token is required',
      });
    let verdict: BearerVerdict;
    try {
      verdict = await options.verifyBearer(match[1]!);
    } catch (err) {
      // A verifier fault (IdP unreachable) is not the caller's fault, and never lets them in.
      log.error('bearer verification failed', { path: c.req.path, err });
      return problemResponse(c, {
        title: 'Service Unavailable',
        status: 503,
        detail: 'the access token cannot be verified now',
      });
    }
    if (!verdict.ok) {
      // SECURITY: the caller learns only that the token is not valid; the log has the reason.
      log.warn('api token refused', { path: c.req.path, reason: verdict.reason });
      return challenge(
        c,
        realm,
        { title: 'Unauthorized', status: 401, detail: 'the access token is not valid' },
        'invalid_token',
      );
    }
    if (!verdict.identity.groups.includes(options.group)) {
      log.warn('api caller lacks the required group', {
        path: c.req.path,
        sub: verdict.identity.sub,
        group: options.group,
      });
      return challenge(
        c,
        realm,
        {
          title: 'Forbidden',
          status: 403,
          detail: `membership of group "${options.group}" is required`,
        },
        'insufficient_scope',
      );
    }
    // Who read the audit trail is itself worth knowing.
    log.info('api request authorised', { path: c.req.path, sub: verdict.identity.sub });
    await next();
    return undefined;
  };
}
