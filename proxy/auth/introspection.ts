// Opaque access tokens: RFC 7662 introspection with the gateway's client credentials, then the same
// checks a JWT gets (active, issuer, audience, exp/nbf) and groups from the configured claim.
// @see https://www.rfc-editor.org/rfc/rfc7662#section-2.2

import * as client from 'openid-client';
import type { AuthResult } from './authenticator.js';
import {
  type Discovery,
  describe,
  groupsFrom,
  type OidcSettings,
  quote,
  type TokenVerifier,
} from './oidc.js';

/** openid-client codes for an answer that came back but is not a valid introspection response. */
const MALFORMED = new Set([
  'OAUTH_INVALID_RESPONSE',
  'OAUTH_PARSE_ERROR',
  'OAUTH_RESPONSE_IS_NOT_JSON',
]);

export function createIntrospectionVerifier(deps: {
  readonly settings: OidcSettings;
  readonly discovery: Discovery;
  readonly now: () => number;
}): TokenVerifier {
  const { settings, now } = deps;
  const toleranceMs = settings.clockToleranceS * 1000;
  const refuse = (reason: string): AuthResult => ({
    ok: false,
    reason: `introspection: ${reason}`,
  });

  return async (token) => {
    let answer: client.IntrospectionResponse;
    try {
      const config = await deps.discovery.configuration();
      answer = await client.tokenIntrospection(config, token, { token_type_hint: 'access_token' });
    } catch (err) {
      // An OAuth error body means the IdP answered and refused us; anything else means no answer.
      if (err instanceof client.ResponseBodyError) {
        return refuse(`the identity provider refused the request: ${err.error} (${err.status})`);
      }
      if (err instanceof client.ClientError && MALFORMED.has(err.code ?? '')) {
        return refuse(`invalid introspection response: ${describe(err)}`);
      }
      return refuse(`identity provider unreachable: ${describe(err)}`);
    }
    // SECURITY: only a literal `true` is active (RFC 7662 §2.2); everything else fails closed.
    if (answer.active !== true) return refuse('token is not active (active: false)');
    if (answer.iss !== undefined && answer.iss !== settings.issuer) {
      return refuse(`wrong issuer ${quote(answer.iss)} (expected ${quote(settings.issuer)})`);
    }
    const audiences = typeof answer.aud === 'string' ? [answer.aud] : (answer.aud ?? []);
    if (!audiences.includes(settings.audience)) {
      return refuse(
        `wrong audience ${quote(answer.aud ?? null)} (expected ${quote(settings.audience)})`,
      );
    }
    if (typeof answer.exp !== 'number') return refuse('missing claim "exp"');
    const at = now();
    if (answer.exp * 1000 + toleranceMs <= at) {
      return refuse(`token expired at ${new Date(answer.exp * 1000).toISOString()}`);
    }
    if (typeof answer.nbf === 'number' && answer.nbf * 1000 - toleranceMs > at) {
      return refuse(`token not yet valid (nbf ${new Date(answer.nbf * 1000).toISOString()})`);
    }
    // A client-credentials token has no end user: its client is the subject, as in RFC 9068 JWTs.
    const sub = answer.sub ?? answer.client_id;
    if (typeof sub !== 'string' || sub === '') return refuse('missing claim "sub"');
    const groups = groupsFrom(answer, settings.groupsClaim);
    if (!groups.ok) return refuse(groups.reason);
    return {
      ok: true,
      identity: {
        sub,
        groups: groups.groups,
        issuer: settings.issuer,
        via: 'introspection',
        expiresAt: answer.exp * 1000,
      },
    };
  };
}
