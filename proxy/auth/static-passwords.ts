// Development authenticator: identities with static passwords from config, compared in constant time.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { Authenticator, AuthResult } from './authenticator.js';

export interface StaticUser {
  readonly name: string;
  readonly password: string;
  readonly groups: readonly string[];
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export function createStaticPasswordAuthenticator(users: readonly StaticUser[]): Authenticator {
  const table = new Map(
    users.map((u) => [u.name, { digest: digest(u.password), groups: u.groups }]),
  );
  // SECURITY: an unknown user is compared against a random digest so timing does not reveal names.
  const decoy = digest(`decoy:${Math.random()}:${Date.now()}`);
  return {
    method: 'static-password',
    async authenticate({ userHint, password }): Promise<AuthResult> {
      const entry = table.get(userHint);
      const matches = timingSafeEqual(entry?.digest ?? decoy, digest(password));
      if (entry === undefined || !matches) return { ok: false, reason: 'invalid user or password' };
      return {
        ok: true,
        identity: {
          sub: userHint,
          groups: entry.groups,
          issuer: 'pgward:static',
          via: 'password',
          expiresAt: null,
        },
      };
    },
  };
}
