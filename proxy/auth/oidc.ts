// OIDC access tokens as JWTs: the issuer's metadata by discovery (openid-client), its keys from the
// cached JWKS, then issuer, audience, exp/nbf and the algorithm allow-list; groups from a claim path.

import { isIP } from 'node:net';
import { decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { PgwardError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { AuthResult } from './authenticator.js';
import { createJwksCache } from './jwks-cache.js';

/** Verifies one presented secret (token or credential) into an identity, or says why not. */
export type TokenVerifier = (token: string) => Promise<AuthResult>;

export interface OidcSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly string[];
  readonly groupsClaim: string;
  readonly clockToleranceS: number;
  readonly fetchTimeoutMs: number;
  readonly jwksCooldownMs: number;
  readonly jwksRefreshMs: number;
  readonly jwksMaxAgeMs: number;
  readonly introspection?: { readonly clientId: string; readonly clientSecret: string };
}

export interface Discovery {
  /** The issuer's metadata and our client; rejects (at most once per cooldown) while unreachable. */
  configuration(): Promise<client.Configuration>;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** SECURITY: metadata and keys come over TLS; plain http only for a loopback IdP (tests, local dev). */
export function issuerUrl(issuer: string): { readonly url: URL; readonly insecure: boolean } {
  const url = new URL(issuer);
  if (url.protocol === 'https:') return { url, insecure: false };
  const host = url.hostname;
  if (
    url.protocol === 'http:' &&
    (LOOPBACK.has(host) || (isIP(host) === 4 && host.startsWith('127.')))
  ) {
    return { url, insecure: true };
  }
  throw new PgwardError('PGW_CONFIG_INVALID', `OIDC issuer ${issuer} must use https`);
}

export function createDiscovery(settings: OidcSettings, now: () => number, log: Logger): Discovery {
  const { url, insecure } = issuerUrl(settings.issuer);
  let done: client.Configuration | null = null;
  let inflight: Promise<client.Configuration> | null = null;
  let failedAt = Number.NEGATIVE_INFINITY;
  let failure = '';
  return {
    configuration() {
      if (done !== null) return Promise.resolve(done);
      if (inflight !== null) return inflight;
      if (now() - failedAt < settings.jwksCooldownMs) {
        return Promise.reject(new Error(`discovery failed: ${failure}`));
      }
      const intro = settings.introspection;
      inflight = client
        .discovery(
          url,
          intro?.clientId ?? 'pgward-gateway',
          undefined,
          intro === undefined ? client.None() : client.ClientSecretBasic(intro.clientSecret),
          {
            timeout: settings.fetchTimeoutMs / 1000,
            ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
          },
        )
        .then((config) => {
          done = config;
          log.info('oidc discovery done', { issuer: settings.issuer });
          return config;
        })
        .catch((err: unknown) => {
          failedAt = now();
          failure = describe(err);
          log.warn('oidc discovery failed', { issuer: settings.issuer, err });
          throw new Error(`discovery failed: ${failure}`, { cause: err });
        })
        .finally(() => {
          inflight = null;
        });
      return inflight;
    },
  };
}

/** Verifies JWT access tokens from the configured issuer. */
export function createJwtVerifier(deps: {
  readonly settings: OidcSettings;
  readonly discovery: Discovery;
  readonly now: () => number;
  readonly log: Logger;
  /** Fetches the JWKS; global fetch unless a test injects one. */
  readonly fetch?: typeof fetch;
}): TokenVerifier {
  const { settings, now } = deps;
  const allowed = new Set(settings.algorithms);
  const jwks = createJwksCache({
    jwksUri: async () => {
      const uri = (await deps.discovery.configuration()).serverMetadata().jwks_uri;
      if (uri === undefined) throw new Error('the issuer publishes no jwks_uri');
      return new URL(uri);
    },
    timeoutMs: settings.fetchTimeoutMs,
    cooldownMs: settings.jwksCooldownMs,
    refreshMs: settings.jwksRefreshMs,
    maxAgeMs: settings.jwksMaxAgeMs,
    now,
    log: deps.log,
    ...(deps.fetch !== undefined ? { fetch: deps.fetch } : {}),
  });
  const refuse = (reason: string): AuthResult => ({ ok: false, reason: `jwt: ${reason}` });

  return async (token) => {
    let alg: string | undefined;
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
      alg = header.alg;
    } catch {
      return refuse('malformed token');
    }
    // SECURITY: the algorithm is checked before any key is chosen: never 'none', never HS* (whose
    // "secret" would be the public key), only the configured list.
    if (alg === undefined || alg.toLowerCase() === 'none') {
      return refuse('algorithm "none" refused: the token is unsigned');
    }
    if (!allowed.has(alg)) {
      const symmetric = alg.startsWith('HS') ? '; symmetric algorithms are never accepted' : '';
      return refuse(
        `algorithm ${quote(alg)} not allowed (allowed: ${[...allowed].join(', ')})${symmetric}`,
      );
    }
    const key = await jwks.keyFor(header);
    if (!key.ok) return refuse(key.reason);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key.key, {
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms: [...allowed],
        clockTolerance: settings.clockToleranceS,
        currentDate: new Date(now()),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      return refuse(joseReason(err, settings));
    }
    const groups = groupsFrom(payload, settings.groupsClaim);
    if (!groups.ok) return refuse(groups.reason);
    return {
      ok: true,
      identity: {
        sub: payload.sub!,
        groups: groups.groups,
        issuer: settings.issuer,
        via: 'jwt',
        expiresAt: payload.exp! * 1000,
      },
    };
  };
}

/** A clear, log-safe reason for a failed jose verification. */
export function joseReason(err: unknown, expected: { issuer: string; audience: string }): string {
  if (err instanceof errors.JWTExpired) return `token expired at ${isoOf(err.payload.exp)}`;
  if (err instanceof errors.JWTClaimValidationFailed) {
    const p = err.payload;
    if (err.reason === 'missing') return `missing claim ${quote(err.claim)}`;
    switch (err.claim) {
      case 'nbf':
        return `token not yet valid (nbf ${isoOf(p.nbf)})`;
      case 'iat':
        return `token issued in the future (iat ${isoOf(p.iat)})`;
      case 'iss':
        return `wrong issuer ${quote(p.iss)} (expected ${quote(expected.issuer)})`;
      case 'aud':
        return `wrong audience ${quote(p.aud)} (expected ${quote(expected.audience)})`;
      default:
        return `invalid claim ${quote(err.claim)}: ${err.message}`;
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return 'signature verification failed: the token was altered or signed with another key';
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof errors.JOSEError) return `invalid token (${err.code}): ${err.message}`;
  return `verification error: ${describe(err)}`;
}

/**
 * Reads the groups claim: a claim name first (namespaced names contain dots), else a dotted path.
 * Absent means no groups; anything but a string or an array of strings fails closed.
 */
export function groupsFrom(
  claims: Record<string, unknown>,
  path: string,
): { ok: true; groups: readonly string[] } | { ok: false; reason: string } {
  let value: unknown = Object.hasOwn(claims, path) ? claims[path] : undefined;
  if (value === undefined) {
    value = claims;
    for (const part of path.split('.')) {
      if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) {
        return { ok: true, groups: [] };
      }
      value = (value as Record<string, unknown>)[part];
    }
  }
  if (value === undefined || value === null) return { ok: true, groups: [] };
  if (typeof value === 'string') return { ok: true, groups: [value] };
  if (Array.isArray(value) && value.every((g) => typeof g === 'string')) {
    return { ok: true, groups: Object.freeze([...value]) };
  }
  return { ok: false, reason: `groups claim ${quote(path)} is not a string array` };
}

function isoOf(epochSeconds: unknown): string {
  return typeof epochSeconds === 'number' && Number.isFinite(epochSeconds)
    ? new Date(epochSeconds * 1000).toISOString()
    : quote(epochSeconds);
}

/** Attacker-controlled values go into logs JSON-quoted and truncated. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
