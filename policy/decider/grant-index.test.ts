// The grant index the evaluator derives for the policy: which positions it lists under which keys,
// that a bundle cannot supply its own, and that with the REAL template policy every decision
// through the index equals the policy's own scan of all grants (the same wasm, without an index).

import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyInput } from '../contracts.js';
import { policyInput } from '../testing/template-bundle.js';
import { useTemplateBundle } from '../testing/template-fixture.js';
import { createEvaluator, ENTRYPOINT } from './evaluator.js';
import { GRANT_INDEX_KEY, grantIndex, withGrantIndex } from './grant-index.js';

const opaWasm = createRequire(import.meta.url)(
  '@open-policy-agent/opa-wasm',
) as typeof import('@open-policy-agent/opa-wasm');

describe('grantIndex', () => {
  it('lists each grant under its sub, its group, or other', () => {
    const index = grantIndex([
      { subject: { sub: 'alice' } },
      { subject: { group: 'ops' } },
      { subject: { sub: 'alice', group: 'ops' } },
      { subject: { sub: '__proto__' } },
      { subject: { sub: 42 } },
      { subject: { sub: 'bob', group: null } },
      { subject: 'alice' },
      'not a grant',
      { subject: {} },
    ]);
    expect({ ...index.subjects }).toEqual({ alice: [0, 2], ['__proto__']: [3] });
    expect(Object.hasOwn(index.subjects, '__proto__')).toBe(true);
    expect({ ...index.groups }).toEqual({ ops: [1, 2] });
    // A subject with neither key can never match: it is not listed at all.
    expect(index.other).toEqual([4, 5, 6, 7]);
  });

  it('survives a JSON round trip as plain objects', () => {
    const index = grantIndex([{ subject: { sub: '__proto__' } }, { subject: { group: 'g' } }]);
    expect(JSON.parse(JSON.stringify(index))).toEqual({
      subjects: { ['__proto__']: [0] },
      groups: { g: [1] },
      other: [],
      utc_windows: [false, false],
    });
  });
});

describe('grantIndex utc_windows', () => {
  it('vouches, by position, only for windows of two canonical UTC seconds', () => {
    const ok = '2026-11-25T09:00:00Z';
    const windows = [
      [ok, '2026-11-25T12:00:00Z'],
      [ok, '2026-11-25T12:00:00.5Z'],
      [ok, '2026-11-25T12:00:00+01:00'],
      ['2026-11-25 09:00:00Z', ok],
      [ok, 1795518000],
      [ok, undefined],
      [ok, '２026-11-25T12:00:00Z'],
      [ok, '2026-11-25T12:00:00Z\n'],
      ['', ''],
    ];
    const grants: unknown[] = windows.map(([not_before, expires_at]) => ({
      subject: { sub: 'alice' },
      not_before,
      expires_at,
    }));
    grants.push('not a grant');
    expect(grantIndex(grants).utc_windows).toEqual([
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('withGrantIndex', () => {
  it('derives the index and never keeps one from the bundle', () => {
    const planted = { subjects: { mallory: [0] }, groups: {}, other: [] };
    const data = { grants: [{ subject: { sub: 'alice' } }], [GRANT_INDEX_KEY]: planted };
    const out = withGrantIndex(data);
    expect(out[GRANT_INDEX_KEY]).toEqual({
      subjects: { alice: [0] },
      groups: {},
      other: [],
      utc_windows: [false],
    });
    expect(data[GRANT_INDEX_KEY]).toBe(planted);
  });

  it('publishes no index without an array of grants, so the policy scans', () => {
    expect(withGrantIndex({ masking: {} })).toEqual({ masking: {} });
    expect(withGrantIndex({ grants: { a: 1 }, [GRANT_INDEX_KEY]: {} })).toEqual({
      grants: { a: 1 },
    });
  });
});

describe('decisions through the index equal the scan of every grant', () => {
  const template = useTemplateBundle();
  let wasm: Buffer;
  let data: Record<string, unknown>;
  beforeAll(() => {
    ({ wasm, data } = template);
  });

  const window = { not_before: '2026-11-25T09:00:00Z', expires_at: '2026-11-25T12:00:00Z' };
  const grant = (id: string, subject: unknown, extra: Record<string, unknown> = {}) => ({
    id,
    subject,
    database: 'app',
    objects: [{ schema: 'public', table: 'orders', actions: ['select', 'delete'] }],
    ...window,
    reason: 'test',
    requester: 'tests@pgward.invalid',
    ...extra,
  });
  const grants = [
    grant('g-sub', { sub: 'svc-reporting' }),
    grant('g-group', { group: 'ops' }, { max_rows: 10 }),
    grant('g-both', { sub: 'alice', group: 'analytics' }, { not_before: '2026-11-25T11:30:00Z' }),
    grant('g-other-db', { sub: 'svc-reporting' }, { database: 'billing' }),
    grant('g-numeric', { sub: 42 }),
    grant('g-proto', { sub: '__proto__' }),
    grant('g-no-subject', {}),
    grant('g-expired', { group: 'ops' }, { expires_at: '2026-11-25T10:00:00Z' }),
    grant('g-bad-window', { sub: 'alice' }, { expires_at: 'tomorrow' }),
    // Windows that look like times but are not the canonical form: never matched, with or without index.
    grant('g-fraction', { sub: 'erin' }, { expires_at: '2026-11-25T12:00:00.5Z' }),
    grant('g-offset', { sub: 'erin' }, { not_before: '2026-11-25T09:00:00+01:00' }),
    grant('g-wide-digit', { sub: 'erin' }, { expires_at: '２026-11-25T12:00:00Z' }),
    grant('g-number', { sub: 'erin' }, { expires_at: 1795518000 }),
  ];
  const identities: { sub: unknown; groups: unknown }[] = [
    { sub: 'svc-reporting', groups: [] },
    { sub: 'alice', groups: [] },
    { sub: 'carol', groups: ['analytics', 'ops'] },
    { sub: 'dana', groups: ['ops'] },
    { sub: '__proto__', groups: ['__proto__'] },
    { sub: 'mallory', groups: [] },
    { sub: 'erin', groups: [] },
    { sub: 42, groups: [42] },
  ];
  const statements = [
    {},
    {
      command: 'DELETE',
      reads: [],
      writes: [{ schema: 'public', table: 'orders', action: 'delete', has_where: true }],
    },
    { reads: [{ schema: 'public', table: 'customers', columns: ['email'] }] },
  ] as const;
  const times = ['2026-11-25T09:30:00.000Z', '2026-11-25T11:45:00.000Z', '2026-11-25T13:00:00Z'];

  it('for every identity, database, statement and time', async () => {
    const withGrants = { ...data, grants };
    const indexed = await createEvaluator({
      manifest: { revision: template.loaded.manifest.revision },
      wasm,
      data: withGrants,
    });
    expect(indexed.failure).toBeNull();
    // The same policy with the data as the bundle has it: no index, so the policy scans.
    const scanning = await opaWasm.loadPolicy(wasm, { initial: 32, maximum: 1024 });
    scanning.setData(withGrants);

    let compared = 0;
    let allowed = 0;
    for (const who of identities) {
      for (const database of ['app', 'billing']) {
        for (const statement of statements) {
          for (const now of times) {
            const base = policyInput({ database, now, statement });
            const input = {
              ...base,
              identity: { ...base.identity, sub: who.sub, groups: who.groups },
            } as unknown as PolicyInput;
            const viaIndex = indexed.evaluate(input);
            const [viaScan] = scanning.evaluate(input, ENTRYPOINT) as [{ result: unknown }];
            expect(viaIndex, JSON.stringify(input)).toEqual(viaScan.result);
            compared++;
            if (viaIndex.allow) allowed++;
          }
        }
      }
    }
    expect(compared).toBe(identities.length * 2 * statements.length * times.length);
    // Erin's grants all have malformed windows: none of them ever matches.
    const erin = policyInput({ sub: 'erin', groups: [], now: '2026-11-25T09:30:00.000Z' });
    expect(indexed.evaluate(erin).reasons.map((r) => r.rule)).toEqual(['access.no_grant']);
    // The grid is not all refusals: the comparison covers granted statements too.
    expect(allowed).toBeGreaterThan(5);
  });
});
