// The authenticator chain: the password message is routed by its shape. A JWS with header typ "pgw"
// is a pgward credential, any other JWS an OIDC JWT; a static user's name selects its password; any
// other secret is an opaque token for introspection.

import { decodeProtectedHeader } from 'jose';
import type { Logger } from '../../lib/log.js';
import type { PgwardConfigResolved, SecretRef } from '../../schemas/generated/config.js';
import type { Authenticator, AuthResult } from './authenticator.js';
import {
  CREDENTIAL_TYP,
  type CredentialMinter,
  createCredentialMinter,
  createCredentialVerifier,
  type GrantsExpiry,
  loadCredentialKeys,
} from './credentials.js';
import { createIntrospectionVerifier } from './introspection.js';
import {
  createDiscovery,
  createJwtVerifier,
  type OidcSettings,
  type TokenVerifier,
} from './oidc.js';
import { createStaticPasswordAuthenticator } from './static-passwords.js';

export interface ChainParts {
  readonly jwt?: TokenVerifier;
  readonly introspection?: TokenVerifier;
  readonly credential?: TokenVerifier;
  readonly password?: Authenticator;
  /** Names of static users: their startup user selects the password check. */
  readonly staticUsers?: ReadonlySet<string>;
}

/** Compact JWS: three base64url segments, the last (signature) possibly empty for alg "none". */
const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function jwsTyp(secret: string): string | null | undefined {
  if (!JWS_SHAPE.test(secret)) return undefined;
  try {
    const header = decodeProtectedHeader(secret);
    return typeof header.typ === 'string' ? header.typ.toLowerCase() : null;
  } catch {
    return undefined;
  }
}

export function createAuthenticatorChain(parts: ChainParts): Authenticator {
  const no = (reason: string): AuthResult => ({ ok: false, reason });
  return {
    method: 'chain',
    async authenticate(request) {
      const typ = jwsTyp(request.password);
      if (typ === CREDENTIAL_TYP) {
        return parts.credential?.(request.password) ?? no('pgward credentials are not enabled');
      }
      if (typ !== undefined && parts.jwt !== undefined) return parts.jwt(request.password);
      if (parts.staticUsers?.has(request.userHint) === true || parts.introspection === undefined) {
        return parts.password?.authenticate(request) ?? no('no authenticator accepts this secret');
      }
      return parts.introspection(request.password);
    },
  };
}

export interface IdentityServices {
  /** The wire authenticator: credentials, OIDC tokens and static passwords. */
  readonly authenticator: Authenticator;
  /** OIDC tokens only (JWT, else introspection): what the HTTP API accepts as a bearer token. */
  readonly bearer: TokenVerifier | null;
  /** Mints pgward credentials; null without identity.credentials.signing_key. */
  readonly minter: CredentialMinter | null;
}

export interface IdentityDeps {
  readonly config: Pick<PgwardConfigResolved, 'identity' | 'auth'>;
  readonly secret: (ref: SecretRef) => Buffer;
  readonly log: Logger;
  readonly now?: () => number;
  /** Bounds minted credentials; without it they are bounded by max_ttl_s only. */
  readonly grantsExpiry?: GrantsExpiry;
}

const text = (bytes: Buffer): string => bytes.toString('utf8').replace(/\r?\n$/, '');

export function oidcSettings(
  oidc: NonNullable<PgwardConfigResolved['identity']['oidc']>,
  secret: (ref: SecretRef) => Buffer,
): OidcSettings {
  return {
    issuer: oidc.issuer,
    audience: oidc.audience,
    algorithms: oidc.algorithms,
    groupsClaim: oidc.groups_claim,
    clockToleranceS: oidc.clock_tolerance_s,
    fetchTimeoutMs: oidc.fetch_timeout_ms,
    jwksCooldownMs: oidc.jwks_cooldown_ms,
    jwksRefreshMs: oidc.jwks_refresh_ms,
    jwksMaxAgeMs: oidc.jwks_max_age_ms,
    ...(oidc.introspection !== undefined
      ? {
          introspection: {
            clientId: oidc.introspection.client_id,
            clientSecret: text(secret(oidc.introspection.client_secret)),
          },
        }
      : {}),
  };
}

/** Builds every identity service the config asks for. Nothing is fetched until the first token. */
export function createIdentityFromConfig(deps: IdentityDeps): IdentityServices {
  const { identity, auth } = deps.config;
  const now = deps.now ?? Date.now;
  const log = deps.log.child({ component: 'identity' });
  let jwt: TokenVerifier | undefined;
  let introspection: TokenVerifier | undefined;
  let bearer: TokenVerifier | null = null;
  if (identity.oidc !== undefined) {
    const settings = oidcSettings(identity.oidc, deps.secret);
    const discovery = createDiscovery(settings, now, log);
    jwt = createJwtVerifier({ settings, discovery, now, log });
    if (settings.introspection !== undefined) {
      introspection = createIntrospectionVerifier({ settings, discovery, now });
    }
    const jwtVerify = jwt;
    const introspect = introspection;
    bearer = (token) =>
      jwsTyp(token) !== undefined || introspect === undefined
        ? jwtVerify(token)
        : introspect(token);
  }
  let credential: TokenVerifier | undefined;
  let minter: CredentialMinter | null = null;
  const creds = identity.credentials;
  if (creds !== undefined) {
    const keys = loadCredentialKeys(
      creds.signing_key === undefined ? null : deps.secret(creds.signing_key),
      (creds.verify_keys ?? []).map((ref) => deps.secret(ref)),
    );
    credential = createCredentialVerifier({
      keys,
      clockToleranceS: identity.oidc?.clock_tolerance_s ?? 0,
      now,
    });
    if (keys.signing !== null) {
      minter = createCredentialMinter({
        keys,
        maxTtlS: creds.max_ttl_s,
        grantsExpiry: deps.grantsExpiry ?? (() => null),
        now,
      });
    }
  }
  const users = auth.users.map((u) => ({
    name: u.name,
    password: text(deps.secret(u.password)),
    groups: u.groups,
  }));
  const authenticator = createAuthenticatorChain({
    ...(jwt !== undefined ? { jwt } : {}),
    ...(introspection !== undefined ? { introspection } : {}),
    ...(credential !== undefined ? { credential } : {}),
    password: createStaticPasswordAuthenticator(users),
    staticUsers: new Set(users.map((u) => u.name)),
  });
  return { authenticator, bearer, minter };
}

/** The gateway's wire authenticator from config (see createIdentityFromConfig). */
export function createAuthenticatorFromConfig(
  config: Pick<PgwardConfigResolved, 'identity' | 'auth'>,
  secret: (ref: SecretRef) => Buffer,
  log: Logger,
  now?: () => number,
): Authenticator {
  return createIdentityFromConfig({ config, secret, log, ...(now !== undefined ? { now } : {}) })
    .authenticator;
}
