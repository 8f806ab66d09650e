// The demo's policy repository, created from policy/template: a bare repository (the "remote" the
// gateway pulls from and approval requests are pushed to) and a clone of it for the person trying the
// demo. The template's example grants are replaced by the demo's: two service identities, valid from
// now for eight hours.

import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Grant } from '../../policy/contracts.js';
import { gitAt, gitStep } from '../../policy/repo/git.js';
import { initPolicyRepo } from '../../policy/repo/init.js';
import { PACKAGE_ROOT } from '../policy-commands.js';
import { PGWARD_VERSION } from '../version.js';

export const DEMO_IDENTITY = { name: 'pgward demo', email: 'demo@pgward.invalid' } as const;
export const GRANT_HOURS = 8;
const TABLES = ['customers', 'orders', 'products'] as const;

export interface DemoPolicyRepo {
  /** The bare repository: policy.git.url and approvals.repo point here. */
  readonly remote: string;
  /** A clone to read and edit (commit and push to change the demo's policy). */
  readonly clone: string;
  readonly grants: readonly Grant[];
}

/** Whole-second UTC, as grants require (2026-11-24T09:00:00Z). */
const utcSecond = (ms: number) =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** The demo grants: masked reads for the analytics group, order maintenance for the ops group. */
export function demoGrants(nowMs: number): Grant[] {
  const from = utcSecond(nowMs);
  const until = utcSecond(nowMs + GRANT_HOURS * 3_600_000);
  const common = {
    not_before: from,
    expires_at: until,
    requester: 'newcomer@example.com',
    ticket: 'DEMO-1',
  };
  const reads = (database: string): Grant => ({
    id: `demo-analytics-${database.replaceAll('_', '-')}`,
    subject: { group: 'analytics' },
    database,
    objects: TABLES.map((table) => ({ schema: 'public', table, actions: ['select' as const] })),
    max_rows: 5000,
    reason: `pgward demo: the analytics agent reads ${database}, personal data masked`,
    ...common,
  });
  const ops: Grant = {
    id: 'demo-ops-orders',
    subject: { group: 'ops' },
    database: 'shop',
    objects: [
      { schema: 'public', table: 'orders', actions: ['select', 'update', 'delete'] },
      { schema: 'public', table: 'products', actions: ['select'] },
    ],
    reason: 'pgward demo: the ops agent maintains orders; every DELETE is approved by a person',
    ...common,
  };
  return [reads('shop'), reads('shop_archive'), ops];
}

/** Creates both repositories under `stateDir` (which must not hold them yet). */
export async function createDemoPolicyRepo(
  stateDir: string,
  nowMs: number,
): Promise<DemoPolicyRepo> {
  const clone = path.join(stateDir, 'policy');
  const remote = path.join(stateDir, 'policy.git');
  await initPolicyRepo({
    dir: clone,
    templateDir: path.join(PACKAGE_ROOT, 'policy', 'template'),
    repoTemplateDir: path.join(PACKAGE_ROOT, 'policy', 'repo-template'),
    pgwardVersion: PGWARD_VERSION,
    branch: 'main',
  });
  const grantsDir = path.join(clone, 'grants');
  for (const name of await readdir(grantsDir))
    if (name.endsWith('.json')) await rm(path.join(grantsDir, name));
  const grants = demoGrants(nowMs);
  for (const g of grants) {
    const doc = { $schema: 'https://pgward.dev/schemas/grant.schema.json', ...g };
    await writeFile(path.join(grantsDir, `${g.id}.json`), `${JSON.stringify(doc, null, 2)}\n`);
  }
  // The demo shop also keeps card numbers: masked like phone numbers (last four digits kept).
  const maskingFile = path.join(clone, 'data', 'masking.json');
  const masking = JSON.parse(await readFile(maskingFile, 'utf8')) as {
    masking: Record<string, string>;
  };
  masking.masking['public.customers.card_number'] = 'partial';
  await writeFile(maskingFile, `${JSON.stringify(masking, null, 2)}\n`);

  const git = gitAt(clone, { identity: DEMO_IDENTITY });
  await gitStep('commit the demo policy', async () => {
    await git.raw(['add', '-A']);
    await git.raw(['commit', '--quiet', '-m', 'pgward demo policy: template rules, demo grants']);
  });
  await gitStep('create the demo policy remote', () =>
    gitAt(stateDir).raw(['clone', '--quiet', '--bare', clone, remote]),
  );
  await gitStep('point the clone at it', async () => {
    await git.raw(['remote', 'add', 'origin', remote]);
    await git.raw(['fetch', '--quiet', 'origin']);
    await git.raw(['branch', '--quiet', '--set-upstream-to', 'origin/main', 'main']);
  });
  return { remote, clone, grants };
}

/** Branch heads of the remote (name → commit), read without a work tree. */
export async function remoteHeads(remote: string): Promise<Map<string, string>> {
  const out = await gitAt(remote, { timeoutMs: 10_000 }).raw([
    'for-each-ref',
    '--format=%(refname:lstrip=2) %(objectname)',
    'refs/heads/',
  ]);
  const heads = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [name, commit] = line.trim().split(' ');
    if (name !== undefined && commit !== undefined) heads.set(name, commit);
  }
  return heads;
}
