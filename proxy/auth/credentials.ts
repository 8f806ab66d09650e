// pgward credentials: short-lived EdDSA-signed JWTs (header typ "pgw", issuer "pgward") carrying the
// caller's sub, groups and original issuer. Any replica holding the public key verifies them offline.

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { PgwardError } from '../../lib/errors.js';
import type { AuthResult, Identity } from './authenticator.js';
import { joseReason, quote, type TokenVerifier } from './oidc.js';

export const CREDENTIAL_ISSUER = 'pgward';
export const CREDENTIAL_TYP = 'pgw';

/**
 * When the caller's grants stop, in epoch milliseconds; null when no grant bounds it. Provided by the
 * policy owner from the serving bundle's data.grants.
 */
export type GrantsExpiry = (
  sub: string,
  groups: readonly string[],
  database?: string,
) => number | null;

export interface CredentialKeys {
  readonly signing: { readonly key: KeyObject; readonly kid: string } | null;
  /** Every public key that verifies, by kid (RFC 7638 thumbprint), the signing key's own included. */
  readonly verifying: ReadonlyMap<string, KeyObject>;
}

export type MintResult =
  | { readonly ok: true; readonly credential: string; readonly expiresAt: number }
  | { readonly ok: false; readonly reason: string };

export interface CredentialMinter {
  mint(identity: Identity, database?: string): Promise<MintResult>;
}

/** RFC 7638 thumbprint of an Ed25519 public key: the kid every replica derives the same way. */
export function keyThumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') {
    throw new PgwardError('PGW_CONFIG_INVALID', 'pgward credential keys must be Ed25519');
  }
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** Loads the PEM signing key (PKCS#8) and any extra PEM public keys (SPKI). */
export function loadCredentialKeys(
  signingPem: Buffer | null,
  verifyPems: readonly Buffer[],
): CredentialKeys {
  const verifying = new Map<string, KeyObject>();
  let signing: CredentialKeys['signing'] = null;
  try {
    if (signingPem !== null) {
      const key = createPrivateKey(signingPem);
      const pub = createPublicKey(key);
      const kid = keyThumbprint(pub);
      signing = { key, kid };
      verifying.set(kid, pub);
    }
    for (const pem of verifyPems) {
      const pub = createPublicKey(pem);
      verifying.set(keyThumbprint(pub), pub);
    }
  } catch (err) {
    if (err instanceof PgwardError) throw err;
    throw new PgwardError('PGW_CONFIG_INVALID', 'cannot read a pgward credential key (PEM)', {
      cause: err,
    });
  }
  if (verifying.size === 0) {
    throw new PgwardError(
      'PGW_CONFIG_INVALID',
      'identity.credentials needs signing_key or verify_keys',
    );
  }
  return { signing, verifying };
}

export function createCredentialMinter(deps: {
  readonly keys: CredentialKeys;
  readonly maxTtlS: number;
  readonly grantsExpiry: GrantsExpiry;
  readonly now: () => number;
}): CredentialMinter {
  const signing = deps.keys.signing;
  if (signing === null) {
    throw new PgwardError('PGW_CONFIG_INVALID', 'minting credentials needs a signing_key');
  }
  return {
    async mint(identity, database) {
      const now = deps.now();
      const grantsEnd = deps.grantsExpiry(identity.sub, identity.groups, database);
      const end = Math.min(now + deps.maxTtlS * 1000, grantsEnd ?? Number.POSITIVE_INFINITY);
      // JWT times are whole seconds: round down so the credential never outlives its bound.
      const exp = Math.floor(end / 1000);
      if (exp * 1000 <= now) {
        return { ok: false, reason: 'the caller has no grant that is still active' };
      }
      const claims: Record<string, unknown> = {
        groups: [...identity.groups],
        oiss: identity.issuer,
      };
      if (database !== undefined) claims.db = database;
      const credential = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', typ: CREDENTIAL_TYP, kid: signing.kid })
        .setIssuer(CREDENTIAL_ISSUER)
        .setSubject(identity.sub)
        .setIssuedAt(Math.floor(now / 1000))
        .setExpirationTime(exp)
        .setJti(randomUUID())
        .sign(signing.key);
      return { ok: true, credential, expiresAt: exp * 1000 };
    },
  };
}

/** Verifies a credential offline: EdDSA only, issuer "pgward", typ "pgw", a known kid. */
export function createCredentialVerifier(deps: {
  readonly keys: CredentialKeys;
  readonly clockToleranceS: number;
  readonly now: () => number;
}): TokenVerifier {
  const refuse = (reason: string): AuthResult => ({ ok: false, reason: `credential: ${reason}` });
  const expected = { issuer: CREDENTIAL_ISSUER, audience: '' };
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(
        token,
        (header) => {
          const key = header.kid === undefined ? undefined : deps.keys.verifying.get(header.kid);
          if (key === undefined) throw new errors.JWKSNoMatchingKey();
          return key;
        },
        {
          issuer: CREDENTIAL_ISSUER,
          typ: CREDENTIAL_TYP,
          algorithms: ['EdDSA'],
          clockTolerance: deps.clockToleranceS,
          currentDate: new Date(deps.now()),
          requiredClaims: ['exp', 'sub', 'iat', 'jti'],
        },
      ));
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey) return refuse('signed by an unknown key');
      return refuse(joseReason(err, expected));
    }
    const { sub, groups, oiss, exp, jti, db } = payload;
    if (typeof sub !== 'string' || sub === '') return refuse('missing claim "sub"');
    if (typeof jti !== 'string' || jti === '') return refuse('missing claim "jti"');
    if (typeof oiss !== 'string') return refuse('missing claim "oiss"');
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) {
      return refuse(`claim "groups" is not a string array: ${quote(groups)}`);
    }
    // SECURITY: a credential minted for one database (and bounded by its grants) opens only that one.
    if (db !== undefined && (typeof db !== 'string' || db === '')) {
      return refuse(`claim "db" is not a database name: ${quote(db)}`);
    }
    const identity: Identity = {
      sub,
      groups,
      issuer: oiss,
      via: 'credential',
      expiresAt: (exp as number) * 1000,
    };
    return { ok: true, identity: db === undefined ? identity : { ...identity, database: db } };
  };
}
