// Credential lifetime bound from the serving grants.
import { describe, expect, it } from 'vitest';
import { grantsExpiry } from './grants-expiry.js';

const now = Date.parse('2026-11-25T12:00:00Z');
const data = {
  grants: [
    {
      subject: { sub: 'a' },
      database: 'app',
      not_before: '2026-11-25T00:00:00Z',
      expires_at: '2026-11-25T14:00:00Z',
    },
    {
      subject: { group: 'ops' },
      database: 'app',
      not_before: '2026-11-25T00:00:00Z',
      expires_at: '2026-11-25T18:00:00Z',
    },
    {
      subject: { sub: 'a' },
      database: 'app',
      not_before: '2026-11-26T00:00:00Z',
      expires_at: '2026-11-27T00:00:00Z',
    },
    {
      subject: { sub: 'a' },
      database: 'other',
      not_before: '2026-11-25T00:00:00Z',
      expires_at: '2026-11-25T20:00:00Z',
    },
    {
      subject: { sub: 'b' },
      database: 'app',
      not_before: '2026-11-25T00:00:00Z',
      expires_at: '2026-11-25T12:00:00Z',
    },
  ],
};

describe('grantsExpiry', () => {
  it('is the latest end of the active grants for the subject and database', () => {
    expect(grantsExpiry(data, 'a', [], 'app', now)).toBe(Date.parse('2026-11-25T14:00:00Z'));
    expect(grantsExpiry(data, 'a', ['ops'], 'app', now)).toBe(Date.parse('2026-11-25T18:00:00Z'));
    expect(grantsExpiry(data, 'a', [], undefined, now)).toBe(Date.parse('2026-11-25T20:00:00Z'));
  });

  it('is now (refuse) when no grant is active: future, expired at its second, other subject, no data', () => {
    expect(grantsExpiry(data, 'b', [], 'app', now)).toBe(now);
    expect(grantsExpiry(data, 'c', [], 'app', now)).toBe(now);
    expect(grantsExpiry(null, 'a', [], 'app', now)).toBe(now);
    expect(grantsExpiry({ grants: 'x' }, 'a', [], 'app', now)).toBe(now);
  });
});
