// One issuer's signing keys (its JWKS), cached: refreshed when old, trusted while the IdP is unreachable
// only up to a maximum age, and refetched for an unknown kid at most once per cooldown.

import {
  type CryptoKey,
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type LocalJWKSet,
} from 'jose';
import type { Logger } from '../../lib/log.js';

/** SECURITY: bounds on what an IdP (or whoever answers at its address) can make us parse and hold. */
const MAX_JWKS_BYTES = 256 * 1024;
const MAX_KEYS = 100;

export type KeyLookup =
  | { readonly ok: true; readonly key: CryptoKey }
  | { readonly ok: false; readonly kind: 'unknown-kid' | 'unreachable'; readonly reason: string };

export interface JwksCacheOptions {
  /** Where the keys are (from discovery); rejects when the IdP is unreachable. */
  readonly jwksUri: () => Promise<URL>;
  readonly timeoutMs: number;
  /** An unknown kid refetches at most once per cooldown (measured from the last fetch attempt). */
  readonly cooldownMs: number;
  /** Keys older than this are refetched on the next lookup. */
  readonly refreshMs: number;
  /** Keys older than this are never used, whether or not a refetch succeeds. */
  readonly maxAgeMs: number;
  readonly now: () => number;
  readonly log: Logger;
  readonly fetch?: typeof fetch;
}

export interface JwksCache {
  keyFor(header: JWSHeaderParameters): Promise<KeyLookup>;
}

export function createJwksCache(options: JwksCacheOptions): JwksCache {
  const { now, log } = options;
  const doFetch = options.fetch ?? fetch;
  let keys: LocalJWKSet | null = null;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let lastError = 'no keys fetched yet';
  let inflight: Promise<boolean> | null = null;

  const load = async (): Promise<LocalJWKSet> => {
    const uri = await options.jwksUri();
    const res = await doFetch(uri, {
      headers: { accept: 'application/json, application/jwk-set+json' },
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    if (!res.ok) throw new Error(`JWKS request answered HTTP ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > MAX_JWKS_BYTES) throw new Error(`JWKS larger than ${MAX_JWKS_BYTES} bytes`);
    const text = await res.text();
    if (text.length > MAX_JWKS_BYTES) throw new Error(`JWKS larger than ${MAX_JWKS_BYTES} bytes`);
    const body = JSON.parse(text) as JSONWebKeySet;
    if (!Array.isArray(body?.keys) || body.keys.length > MAX_KEYS) {
      throw new Error(`JWKS must hold a "keys" array of at most ${MAX_KEYS} keys`);
    }
    return createLocalJWKSet({ keys: body.keys });
  };

  /** Single-flight refetch; true when fresh keys are in place. */
  const refresh = (): Promise<boolean> => {
    if (inflight !== null) return inflight;
    lastAttempt = now();
    inflight = load()
      .then((next) => {
        keys = next;
        fetchedAt = now();
        log.info('jwks fetched', { kids: next.jwks().keys.map((k) => k.kid ?? null) });
        return true;
      })
      .catch((err: unknown) => {
        lastError = err instanceof Error ? err.message : String(err);
        log.warn('jwks fetch failed', { err });
        return false;
      })
      .finally(() => {
        inflight = null;
      });
    return inflight;
  };

  const cooledDown = () => now() - lastAttempt >= options.cooldownMs;
  const unreachable = (why: string): KeyLookup => ({
    ok: false,
    kind: 'unreachable',
    reason: `identity provider unreachable: ${why}`,
  });

  const select = async (set: LocalJWKSet, header: JWSHeaderParameters) => {
    try {
      return { ok: true as const, key: await set(header) };
    } catch (err) {
      if (err instanceof errors.JWKSMultipleMatchingKeys) {
        return { ok: false as const, reason: 'token has no kid and several keys match' };
      }
      if (err instanceof errors.JWKSNoMatchingKey) {
        return { ok: false as const, reason: `unknown kid ${JSON.stringify(header.kid ?? null)}` };
      }
      throw err;
    }
  };

  return {
    async keyFor(header) {
      // A fetch under way (ours or a concurrent lookup's) is awaited rather than started again.
      if (inflight !== null) await inflight;
      else if (now() - fetchedAt >= options.refreshMs && cooledDown()) await refresh();
      if (keys === null || now() - fetchedAt >= options.maxAgeMs) {
        return unreachable(
          keys === null ? lastError : `cached keys expired and refetch failed: ${lastError}`,
        );
      }
      const first = await select(keys, header);
      if (first.ok) return first;
      // SECURITY: invented kids cost at most one fetch per cooldown, never one per token.
      const refetch = inflight ?? (cooledDown() ? refresh() : null);
      if (refetch === null) return { ok: false, kind: 'unknown-kid', reason: first.reason };
      if (!(await refetch)) return unreachable(`${first.reason}; refetch failed: ${lastError}`);
      const second = await select(keys, header);
      return second.ok ? second : { ok: false, kind: 'unknown-kid', reason: second.reason };
    },
  };
}
