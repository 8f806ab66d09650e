// Grant requests: argument parsing, ids, and the grant file validated against the real schema.
import { describe, expect, it } from 'vitest';
import { policyValidators } from '../schemas.js';
import { buildGrant, grantId, parseSubject, parseTableSpec, parseTtl } from './grant-request.js';

const NOW = new Date('2026-11-24T09:15:42.567Z');
const request = {
  subject: 'svc-agent',
  database: 'app',
  tables: ['public.orders:select,insert', 'customers:select'],
  ttl: '2h',
  reason: 'Investigate INC-1',
  requester: 'alice@example.com',
};

describe('parseTtl', () => {
  it('reads seconds, minutes, hours, days and combinations', () => {
    expect(parseTtl('90s')).toBe(90_000);
    expect(parseTtl('30m')).toBe(1_800_000);
    expect(parseTtl('2h')).toBe(7_200_000);
    expect(parseTtl('1d')).toBe(86_400_000);
    expect(parseTtl('1h30m')).toBe(5_400_000);
  });

  it.each(['', '2', 'h', '-1h', '1.5h', '2 h', '0s', '1w'])('refuses %j', (text) => {
    expect(() => parseTtl(text)).toThrow(
      expect.objectContaining({ code: 'PGW_REPO_REQUEST_INVALID' }),
    );
  });
});

describe('parseSubject and parseTableSpec', () => {
  it('tells a sub from a group', () => {
    expect(parseSubject('svc-agent')).toEqual({ sub: 'svc-agent' });
    expect(parseSubject('group:ops')).toEqual({ group: 'ops' });
    expect(() => parseSubject('group:')).toThrow();
  });

  it('reads schema.table:actions, defaulting the schema to public and de-duplicating', () => {
    expect(parseTableSpec('public.orders:select,insert')).toEqual({
      schema: 'public',
      table: 'orders',
      actions: ['select', 'insert'],
    });
    expect(parseTableSpec('orders:SELECT,select')).toEqual({
      schema: 'public',
      table: 'orders',
      actions: ['select'],
    });
  });

  it.each(['orders', ':select', 'a.b.c:select', 'orders:drop', 'orders:'])('refuses %j', (text) => {
    expect(() => parseTableSpec(text)).toThrow(
      expect.objectContaining({ code: 'PGW_REPO_REQUEST_INVALID' }),
    );
  });
});

describe('grantId', () => {
  const orders = [{ schema: 'public', table: 'orders', actions: ['select' as const] }];

  it('is <date>-<subject>-<tables>, id-safe', () => {
    expect(grantId(NOW, { sub: 'Alice@Example.com' }, orders, () => false)).toBe(
      '2026-11-24-alice-example.com-orders',
    );
    expect(grantId(NOW, { group: 'ops' }, orders, () => false)).toBe('2026-11-24-group-ops-orders');
  });

  it('adds a suffix until the id is free', () => {
    const taken = new Set(['2026-11-24-svc-agent-orders', '2026-11-24-svc-agent-orders-2']);
    expect(grantId(NOW, { sub: 'svc-agent' }, orders, (id) => taken.has(id))).toBe(
      '2026-11-24-svc-agent-orders-3',
    );
  });

  it('stays within the schema pattern for very long names', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({
      schema: 'public',
      table: `a_rather_long_table_name_${i}`,
      actions: ['select' as const],
    }));
    const id = grantId(NOW, { sub: 'svc-agent' }, many, () => false);
    expect(id.length).toBeLessThanOrEqual(128);
    expect(id).toMatch(/^[a-z0-9][a-z0-9._-]{2,127}$/);
  });
});

describe('buildGrant', () => {
  it('produces a schema-valid grant from now (to the second) for the ttl', () => {
    const grant = buildGrant(request, NOW, () => false);
    expect(policyValidators().grant(grant)).toBe(true);
    expect(grant).toMatchObject({
      id: '2026-11-24-svc-agent-orders-customers',
      subject: { sub: 'svc-agent' },
      not_before: '2026-11-24T09:15:42Z',
      expires_at: '2026-11-24T11:15:42Z',
      objects: [
        { schema: 'public', table: 'orders', actions: ['select', 'insert'] },
        { schema: 'public', table: 'customers', actions: ['select'] },
      ],
    });
  });

  it('requires tables, a reason and a requester', () => {
    expect(() => buildGrant({ ...request, tables: [] }, NOW, () => false)).toThrow(/--table/);
    expect(() => buildGrant({ ...request, reason: ' ' }, NOW, () => false)).toThrow(/--reason/);
    expect(() => buildGrant({ ...request, requester: '' }, NOW, () => false)).toThrow(
      /--requester/,
    );
  });
});
