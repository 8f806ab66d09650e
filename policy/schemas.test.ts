// The TypeScript views in contracts.ts stay in step with the JSON Schemas they mirror.

import { describe, expect, it } from 'vitest';
import manifestSchema from '../schemas/bundle-manifest.schema.json' with { type: 'json' };
import decisionSchema from '../schemas/decision.schema.json' with { type: 'json' };
import { BUNDLE_FILES, MASK_METHODS, OUTCOMES } from './contracts.js';
import { policyValidators, toProblems } from './schemas.js';

describe('contracts', () => {
  it('mirror the schema enums', () => {
    expect(decisionSchema.properties.outcome.enum).toEqual([...OUTCOMES]);
    expect(decisionSchema.properties.mask.additionalProperties.enum).toEqual([...MASK_METHODS]);
    expect(manifestSchema.properties.files.items.properties.path.enum).toEqual([...BUNDLE_FILES]);
  });

  it('compile once and report problems with JSON pointers', () => {
    const v = policyValidators();
    expect(policyValidators()).toBe(v);
    expect(v.grant({ id: 'x' })).toBe(false);
    const problems = toProblems('grants/x.json', v.grant.errors);
    expect(problems.length).toBeGreaterThan(1);
    expect(problems).toContainEqual({
      file: 'grants/x.json',
      pointer: '/id',
      message: 'must match pattern "^[a-z0-9][a-z0-9._-]{2,127}$"',
    });
  });

  it('accept valid_until as an RFC 3339 instant or null, nothing else', () => {
    const decision = {
      allow: true,
      outcome: 'allowed',
      reasons: [],
      approval: { required: false, id: null },
      mask: {},
      grant_ids: [],
      limits: {},
    };
    const v = policyValidators().decision;
    expect(v(decision)).toBe(true);
    expect(v({ ...decision, valid_until: null })).toBe(true);
    expect(v({ ...decision, valid_until: '2026-12-08T09:00:00Z' })).toBe(true);
    expect(v({ ...decision, valid_until: 'next week' })).toBe(false);
  });

  it('accept an approval window only as UTC whole seconds', () => {
    const approved = (window: Record<string, unknown>) => ({
      allow: true,
      outcome: 'allowed',
      reasons: [],
      approval: { required: true, id: 'apr-1', ...window },
      mask: {},
      grant_ids: [],
      limits: {},
    });
    const v = policyValidators().decision;
    const window = { not_before: '2026-11-24T10:00:00Z', expires_at: '2026-11-24T11:00:00Z' };
    expect(v(approved(window))).toBe(true);
    expect(v(approved({}))).toBe(true);
    expect(v(approved({ ...window, expires_at: '2026-11-24T11:00:00.5Z' }))).toBe(false);
    expect(v(approved({ ...window, not_before: '2026-11-24T10:00:00+01:00' }))).toBe(false);
    expect(v(approved({ ...window, not_before: null }))).toBe(false);
  });
});
