// Static-password authenticator: right and wrong passwords, unknown users, and one constant-time path for all.
import * as crypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createStaticPasswordAuthenticator } from './static-passwords.js';

vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});

const auth = createStaticPasswordAuthenticator([
  { name: 'alice', password: 'correct horse', groups: ['analytics', 'ops'] },
  { name: 'bob', password: 'ünïcødé', groups: [] },
]);

const attempt = (userHint: string, password: string) =>
  auth.authenticate({ userHint, password, clientAddr: '127.0.0.1' });

afterEach(() => {
  vi.mocked(crypto.timingSafeEqual).mockClear();
});

describe('static password authenticator', () => {
  it('accepts the right password and returns the identity', async () => {
    expect(auth.method).toBe('static-password');
    expect(await attempt('alice', 'correct horse')).toEqual({
      ok: true,
      identity: {
        sub: 'alice',
        groups: ['analytics', 'ops'],
        issuer: 'pgward:static',
        via: 'password',
        expiresAt: null,
      },
    });
    expect(await attempt('bob', 'ünïcødé')).toMatchObject({ ok: true, identity: { sub: 'bob' } });
  });

  it.each([
    ['a wrong password', 'alice', 'correct horsE'],
    ['a prefix of the password', 'alice', 'correct'],
    ['the password plus a byte', 'alice', 'correct horse '],
    ['an empty password', 'alice', ''],
    ['another user’s password', 'bob', 'correct horse'],
    ['the NFC/NFD twin of the password', 'bob', 'ünïcødé'.normalize('NFD')],
  ])('refuses %s', async (_name, user, password) => {
    expect(await attempt(user, password)).toEqual({
      ok: false,
      reason: 'invalid user or password',
    });
  });

  it.each(['carol', 'Alice', '', '__proto__', 'constructor'])(
    'refuses unknown user %j with the same answer',
    async (user) => {
      expect(await attempt(user, 'correct horse')).toEqual({
        ok: false,
        reason: 'invalid user or password',
      });
    },
  );

  it('compares in constant time exactly once, whether the user is known or not', async () => {
    const compare = vi.mocked(crypto.timingSafeEqual);
    for (const [user, password] of [
      ['alice', 'correct horse'],
      ['alice', 'wrong'],
      ['nobody', 'wrong'],
      ['nobody', ''],
    ] as const) {
      compare.mockClear();
      await attempt(user, password);
      expect(compare, `${user}/${password}`).toHaveBeenCalledTimes(1);
      const [a, b] = compare.mock.calls[0]!;
      // Both sides are fixed-size digests, never the raw secret.
      expect([a.byteLength, b.byteLength]).toEqual([32, 32]);
    }
  });

  it('an empty user table refuses everyone', async () => {
    const none = createStaticPasswordAuthenticator([]);
    expect(
      await none.authenticate({ userHint: 'alice', password: 'x', clientAddr: '127.0.0.1' }),
    ).toMatchObject({ ok: false });
  });
});
