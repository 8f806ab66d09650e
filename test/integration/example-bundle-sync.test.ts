// The committed policy/example-bundle is exactly what the pinned opa builds from policy/template: the
// CI check that keeps them in step. `pgward demo` relies on it: it reuses that policy.wasm, without
// OPA, only while the bundle's revision is the template's content hash and the Rego is the template's.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataBundle, EXAMPLE_BUNDLE_DIR } from '../../cli/demo/data-bundle.js';
import { contentRevision } from '../../cli/policy-commands.js';
import { buildBundle } from '../../policy/bundle/build.js';
import { loadBundle } from '../../policy/bundle/load.js';
import { sha256Hex } from '../../policy/bundle/manifest.js';
import type { BundleManifest } from '../../policy/contracts.js';
import { OPA_PATH, TEMPLATE_DIR } from '../../policy/testing/template-bundle.js';

/** The built_at the committed bundle carries, so a rebuild is byte for byte comparable. */
const BUILT_AT = '2026-01-01T00:00:00Z';
const REBUILD = `node dist/cli/main.js policy build --source policy/template --out policy/example-bundle --built-at ${BUILT_AT}`;
let out: string;
let manifest: BundleManifest;

beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'pgward-example-bundle-'));
  // What `pgward policy build` does for a directory that is not its own git checkout.
  manifest = await buildBundle({
    sourceDir: TEMPLATE_DIR,
    outDir: out,
    opaPath: OPA_PATH,
    revision: contentRevision(TEMPLATE_DIR),
    now: () => new Date(BUILT_AT),
  });
}, 120_000);

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('policy/example-bundle', () => {
  it('is byte for byte the bundle the pinned opa builds from policy/template', async () => {
    const names = ['manifest.json', ...manifest.files.map((f) => f.path)].sort();
    const committed = JSON.parse(
      await readFile(path.join(EXAMPLE_BUNDLE_DIR, 'manifest.json'), 'utf8'),
    ) as BundleManifest;
    expect(
      ['manifest.json', ...committed.files.map((f) => f.path)].sort(),
      `the committed bundle lists other files; rebuild it: ${REBUILD}`,
    ).toEqual(names);
    for (const name of names) {
      const built = await readFile(path.join(out, name));
      const kept = await readFile(path.join(EXAMPLE_BUNDLE_DIR, name));
      expect(
        sha256Hex(kept),
        `policy/example-bundle/${name} is stale; rebuild it: ${REBUILD}`,
      ).toBe(sha256Hex(built));
    }
  });

  it('is what the demo’s data-only build reuses for the template’s own data', async () => {
    const committed = await loadBundle(EXAMPLE_BUNDLE_DIR);
    if (!committed.ok) throw new Error(committed.message);
    expect(committed.manifest.revision, `rebuild it: ${REBUILD}`).toBe(
      contentRevision(TEMPLATE_DIR),
    );
    const dataOnly = path.join(out, 'data-only');
    await buildDataBundle({
      sourceDir: TEMPLATE_DIR,
      outDir: dataOnly,
      revision: 'd'.repeat(40),
      now: () => new Date(BUILT_AT),
    });
    const read = (dir: string, name: string) => readFile(path.join(dir, name));
    for (const name of ['policy.wasm', 'canary.json'])
      expect(sha256Hex(await read(dataOnly, name)), name).toBe(
        sha256Hex(await read(EXAMPLE_BUNDLE_DIR, name)),
      );
    // opa re-serialises data.json (keys sorted); the document is the same.
    const data = async (dir: string) => JSON.parse((await read(dir, 'data.json')).toString('utf8'));
    expect(await data(dataOnly)).toEqual(await data(EXAMPLE_BUNDLE_DIR));
  });
});
