// Builds real policy bundles for tests: policy/template copied to a temp dir with the test's own grants,
// approvals and data, compiled by the pinned `opa build` through buildBundle.

import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildBundle } from '../../policy/bundle/build.js';
import { OPA_PATH, TEMPLATE_DIR, TEST_REVISION } from '../../policy/testing/template-bundle.js';

export interface GrantSpec {
  readonly id: string;
  readonly subject: { readonly sub: string } | { readonly group: string };
  readonly database?: string;
  readonly objects: readonly {
    readonly schema?: string;
    readonly table: string;
    readonly actions: readonly string[];
  }[];
  readonly functions?: readonly string[];
  readonly mask_exempt?: readonly string[];
  /** Defaults: valid from an hour ago for a day. */
  readonly not_before?: string;
  readonly expires_at?: string;
}

export interface PolicyRepoOptions {
  readonly grants: readonly GrantSpec[];
  readonly approvals?: readonly Record<string, unknown>[];
  /** Extra files under data/ (name → JSON), replacing the template's file of that name. */
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface TestPolicy extends AsyncDisposable {
  readonly sourceDir: string;
  readonly bundleDir: string;
  /** Rebuilds the bundle from the (possibly edited) source into a fresh directory and returns it. */
  rebuild(): Promise<string>;
}

/** An ISO timestamp `seconds` from now, whole seconds, UTC. */
export function isoIn(seconds: number, from = Date.now()): string {
  return `${new Date(Math.floor(from / 1000) * 1000 + seconds * 1000).toISOString().slice(0, 19)}Z`;
}

export function grantFile(g: GrantSpec): Record<string, unknown> {
  return {
    id: g.id,
    subject: g.subject,
    database: g.database ?? 'app',
    objects: g.objects.map((o) => ({
      schema: o.schema ?? 'public',
      table: o.table,
      actions: o.actions,
    })),
    ...(g.functions !== undefined ? { functions: g.functions } : {}),
    ...(g.mask_exempt !== undefined ? { mask_exempt: g.mask_exempt } : {}),
    not_before: g.not_before ?? isoIn(-3600),
    expires_at: g.expires_at ?? isoIn(86_400),
    reason: `test grant ${g.id}`,
    requester: 'tests@pgward.invalid',
  };
}

export async function createTestPolicy(options: PolicyRepoOptions): Promise<TestPolicy> {
  const root = await mkdtemp(path.join(tmpdir(), 'pgward-policy-'));
  const sourceDir = path.join(root, 'source');
  await cp(TEMPLATE_DIR, sourceDir, { recursive: true });
  for (const dir of ['grants', 'approvals']) {
    for (const f of await readdir(path.join(sourceDir, dir))) {
      if (f.endsWith('.json')) await rm(path.join(sourceDir, dir, f));
    }
  }
  for (const g of options.grants) {
    await writeFile(
      path.join(sourceDir, 'grants', `${g.id}.json`),
      JSON.stringify(grantFile(g), null, 2),
    );
  }
  for (const a of options.approvals ?? []) {
    await writeFile(
      path.join(sourceDir, 'approvals', `${String(a.id)}.json`),
      JSON.stringify(a, null, 2),
    );
  }
  for (const [name, value] of Object.entries(options.data ?? {})) {
    await writeFile(path.join(sourceDir, 'data', name), JSON.stringify(value, null, 2));
  }
  let builds = 0;
  const rebuild = async () => {
    const outDir = path.join(root, `bundle-${builds++}`);
    await buildBundle({
      sourceDir,
      outDir,
      opaPath: OPA_PATH,
      revision: TEST_REVISION.replace(/.$/, String(builds % 10)),
    });
    return outDir;
  };
  const bundleDir = await rebuild();
  return {
    sourceDir,
    bundleDir,
    rebuild,
    [Symbol.asyncDispose]: () => rm(root, { recursive: true, force: true }),
  };
}
