// check-grants on copies of the real template, compiled by the pinned OPA for the dry run.
import { cp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPA_PATH, TEMPLATE_DIR, tempDir } from '../testing/template-bundle.js';
import { checkGrants } from './check-grants.js';

const NOW = new Date('2026-11-25T13:00:00Z');

async function templateCopy() {
  const dir = await tempDir('pgward-check-grants-');
  await cp(TEMPLATE_DIR, dir.path, { recursive: true });
  return dir;
}

const grant = (id: string, notBefore: string, expiresAt: string) => ({
  id,
  subject: { sub: 'svc-agent' },
  database: 'app',
  objects: [{ schema: 'public', table: 'orders', actions: ['select', 'update'] }],
  not_before: notBefore,
  expires_at: expiresAt,
  reason: 'test',
  requester: 'alice@example.com',
});

describe('checkGrants', () => {
  it('passes the template and dry-runs every object, action and function of each live grant', async () => {
    await using dir = await templateCopy();
    const result = await checkGrants(dir.path, { opaPath: OPA_PATH, now: NOW });
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.grants).toBe(3);
    expect(result.dryRun.map((c) => `${c.grant}: ${c.case}`).sort()).toEqual([
      '2026-11-24-svc-reporting-orders: call public.order_total',
      '2026-11-24-svc-reporting-orders: select public.customers',
      '2026-11-24-svc-reporting-orders: select public.orders',
      '2026-11-25-group-ops-orders-maintenance: delete public.orders',
      '2026-11-25-group-ops-orders-maintenance: select public.orders',
      '2026-11-25-group-ops-orders-maintenance: update public.orders',
      '2026-11-25-support-alice-customer-contact: select public.customers',
    ]);
    expect(result.dryRun.every((c) => c.ok)).toBe(true);
    // The ops group's DELETE is covered by the grant, and still needs an approval: policy, not a defect.
    expect(result.dryRun.find((c) => c.case === 'delete public.orders')?.outcome).toBe(
      'approval_required',
    );
  });

  it('fails a grant above the maximum lifetime and one whose id does not start with its date', async () => {
    await using dir = await templateCopy();
    const long = grant(
      '2026-11-25-svc-agent-orders',
      '2026-11-25T10:00:00Z',
      '2026-12-30T10:00:00Z',
    );
    const misnamed = grant('svc-agent-orders', '2026-11-25T10:00:00Z', '2026-11-25T18:00:00Z');
    for (const g of [long, misnamed])
      await writeFile(path.join(dir.path, 'grants', `${g.id}.json`), JSON.stringify(g));
    const result = await checkGrants(dir.path, { opaPath: OPA_PATH, now: NOW });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          file: 'grants/2026-11-25-svc-agent-orders.json',
          pointer: '/expires_at',
          message: expect.stringMatching(/above the maximum of 720/),
        }),
        expect.objectContaining({
          file: 'grants/svc-agent-orders.json',
          pointer: '/id',
          message: expect.stringMatching(/must start with the UTC date of not_before/),
        }),
      ]),
    );
    // No dry run on a source that does not validate.
    expect(result.dryRun).toEqual([]);
  });

  it('only warns about expired grants (prune removes them) and does not dry-run them', async () => {
    await using dir = await templateCopy();
    for (const f of ['2026-11-25-support-alice-customer-contact.json'])
      await rm(path.join(dir.path, 'grants', f));
    const later = new Date('2026-12-01T00:00:00Z');
    const result = await checkGrants(dir.path, { opaPath: OPA_PATH, now: later });
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual([
      expect.objectContaining({
        file: 'grants/2026-11-25-group-ops-orders-maintenance.json',
        message: 'has expired; prune removes it',
      }),
    ]);
    expect(new Set(result.dryRun.map((c) => c.grant))).toEqual(
      new Set(['2026-11-24-svc-reporting-orders']),
    );
  });
});
