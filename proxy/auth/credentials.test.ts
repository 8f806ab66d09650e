// pgward credentials: minted bounded by max TTL and the caller's real grants, verified offline by any
// replica holding the public key, and refused when altered, expired or signed by a stranger.
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { Identity } from './authenticator.js';
import {
  createCredentialMinter,
  createCredentialVerifier,
  type GrantsExpiry,
  loadCredentialKeys,
} from './credentials.js';

const GRANTS_DIR = path.resolve(import.meta.dirname, '../../policy/template/grants');
const NOW = Date.parse('2026-11-25T13:00:00Z');

interface GrantFile {
  subject: { sub?: string; group?: string };
  database: string;
  not_before: string;
  expires_at: string;
}

/** The latest end among the caller's grants active at `now` (0 when none is): what policy provides. */
function grantsExpiryFrom(dir: string, now: () => number): GrantsExpiry {
  const grants = readdirSync(dir).map(
    (f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as GrantFile,
  );
  return (sub, groups, database) => {
    const ends = grants
      .filter((g) => g.subject.sub === sub || groups.includes(g.subject.group ?? '\0'))
      .filter((g) => database === undefined || g.database === database)
      .filter((g) => Date.parse(g.not_before) <= now() && now() < Date.parse(g.expires_at))
      .map((g) => Date.parse(g.expires_at));
    return ends.length === 0 ? 0 : Math.max(...ends);
  };
}

const pem = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    private: Buffer.from(privateKey.export({ format: 'pem', type: 'pkcs8' })),
    public: Buffer.from(publicKey.export({ format: 'pem', type: 'spki' })),
  };
};
const primary = pem();
const keys = loadCredentialKeys(primary.private, []);
const clock = { t: NOW };
const now = () => clock.t;
const minter = (maxTtlS = 3600) =>
  createCredentialMinter({ keys, maxTtlS, grantsExpiry: grantsExpiryFrom(GRANTS_DIR, now), now });
const verify = createCredentialVerifier({ keys, clockToleranceS: 0, now });

const who = (sub: string, groups: string[] = []): Identity => ({
  sub,
  groups,
  issuer: 'https://idp.example.com',
  via: 'jwt',
  expiresAt: NOW + 300_000,
});

async function mintOk(identity: Identity, database = 'app', maxTtlS = 3600) {
  const result = await minter(maxTtlS).mint(identity, database);
  if (!result.ok) throw new Error(result.reason);
  return result;
}

describe('minting', () => {
  it('signs an EdDSA JWT with typ pgw, issuer pgward and the caller claims', async () => {
    const { credential, expiresAt } = await mintOk(who('alice@example.com', ['support']));
    expect(decodeProtectedHeader(credential)).toMatchObject({ alg: 'EdDSA', typ: 'pgw' });
    const claims = decodeJwt(credential);
    expect(claims).toMatchObject({
      iss: 'pgward',
      sub: 'alice@example.com',
      groups: ['support'],
      oiss: 'https://idp.example.com',
      db: 'app',
      iat: NOW / 1000,
      exp: NOW / 1000 + 3600,
    });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(expiresAt).toBe(NOW + 3600_000);
  });

  it('never outlives the grant: exp is the grant end when that comes before the max TTL', async () => {
    const alice = await mintOk(who('alice@example.com'), 'app', 86_400);
    expect(alice.expiresAt).toBe(Date.parse('2026-11-26T12:00:00Z'));
    clock.t = Date.parse('2026-11-27T17:30:00Z');
    try {
      const ops = await mintOk(who('bob', ['ops']));
      expect(ops.expiresAt).toBe(Date.parse('2026-11-27T18:00:00Z'));
    } finally {
      clock.t = NOW;
    }
  });

  it('refuses a caller with no active grant', async () => {
    expect(await minter().mint(who('svc-reporting'), 'other-db')).toEqual({
      ok: false,
      reason: 'the caller has no grant that is still active',
    });
    expect((await minter().mint(who('nobody'), 'app')).ok).toBe(false);
  });

  it('each credential has its own jti', async () => {
    const a = decodeJwt((await mintOk(who('alice@example.com'))).credential).jti;
    const b = decodeJwt((await mintOk(who('alice@example.com'))).credential).jti;
    expect(a).not.toBe(b);
  });
});

describe('verifying', () => {
  it('round-trips to the original identity, via credential, bound to the database it was minted for', async () => {
    const { credential, expiresAt } = await mintOk(who('alice@example.com', ['support']));
    expect(await verify(credential)).toEqual({
      ok: true,
      identity: {
        sub: 'alice@example.com',
        groups: ['support'],
        issuer: 'https://idp.example.com',
        via: 'credential',
        expiresAt,
        database: 'app',
      },
    });
  });

  it('a credential minted for no database in particular is bound to none', async () => {
    const result = await minter().mint(who('alice@example.com'));
    expect(result.ok).toBe(true);
    const verified = result.ok ? await verify(result.credential) : null;
    expect(verified).toMatchObject({ ok: true, identity: { sub: 'alice@example.com' } });
    expect(verified?.ok === true && 'database' in verified.identity).toBe(false);
  });

  it('a replica holding only the public key verifies offline', async () => {
    const replica = createCredentialVerifier({
      keys: loadCredentialKeys(null, [primary.public]),
      clockToleranceS: 0,
      now,
    });
    expect((await replica((await mintOk(who('alice@example.com'))).credential)).ok).toBe(true);
  });

  it('refuses an expired credential', async () => {
    const { credential } = await mintOk(who('alice@example.com'));
    clock.t = NOW + 3600_000;
    try {
      expect(await verify(credential)).toEqual({
        ok: false,
        reason: `credential: token expired at ${new Date(NOW + 3600_000).toISOString()}`,
      });
    } finally {
      clock.t = NOW;
    }
  });

  it('refuses a tampered credential', async () => {
    const [h, p, s] = (await mintOk(who('alice@example.com', ['support']))).credential.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, groups: ['admin'] })).toString(
      'base64url',
    );
    expect(await verify(`${h}.${forged}.${s}`)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^credential: signature verification failed/),
    });
  });

  it('refuses a credential signed by a key it does not hold', async () => {
    const stranger = loadCredentialKeys(pem().private, []);
    const forged = await createCredentialMinter({
      keys: stranger,
      maxTtlS: 60,
      grantsExpiry: () => null,
      now,
    }).mint(who('alice@example.com'));
    expect(forged.ok && (await verify(forged.credential))).toEqual({
      ok: false,
      reason: 'credential: signed by an unknown key',
    });
  });

  it.each<[string, Record<string, string>, Record<string, unknown>, RegExp]>([
    ['a typ other than pgw', { typ: 'JWT' }, {}, /unexpected "typ"/],
    ['another issuer', {}, { iss: 'https://idp.example.com' }, /wrong issuer/],
    ['no jti', {}, { jti: undefined }, /missing claim "jti"/],
    ['a null jti', {}, { jti: null }, /missing claim "jti"/],
    ['groups that are not strings', {}, { groups: [7] }, /claim "groups" is not a string array/],
    [
      'a db claim that is not a string',
      {},
      { db: ['app', 'other'] },
      /claim "db" is not a database name/,
    ],
    ['an empty db claim', {}, { db: '' }, /claim "db" is not a database name/],
  ])('refuses a properly signed token with %s', async (_n, header, claims, reason) => {
    const token = await new SignJWT({
      iss: 'pgward',
      sub: 'alice',
      groups: [],
      oiss: 'x',
      jti: 'j',
      iat: NOW / 1000,
      exp: NOW / 1000 + 60,
      ...claims,
    })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'pgw', kid: keys.signing!.kid, ...header })
      .sign(keys.signing!.key);
    expect(await verify(token)).toMatchObject({ ok: false, reason });
  });
});

describe('loading keys', () => {
  it('refuses keys that are not Ed25519, garbage, and an empty key set', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaPem = Buffer.from(rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    expect(() => loadCredentialKeys(rsaPem, [])).toThrow(/must be Ed25519/);
    expect(() => loadCredentialKeys(Buffer.from('not a pem'), [])).toThrow(/cannot read/);
    expect(() => loadCredentialKeys(null, [])).toThrow(/needs signing_key or verify_keys/);
  });

  it('derives the same kid from the private and the public key', () => {
    const k = pem();
    const fromPrivate = loadCredentialKeys(k.private, []);
    const fromPublic = loadCredentialKeys(null, [k.public]);
    expect([...fromPublic.verifying.keys()]).toEqual([fromPrivate.signing!.kid]);
  });
});
