// The demo's data-only bundle: the committed policy.wasm with the repository's own data, loadable by
// the gateway's loader, its decisions following the new data, and refused when the Rego changed or
// the example bundle was not built from the template. The template and bundle are copied, so this
// test does not depend on the committed pair being in step (test/integration/example-bundle-sync).

import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBundle } from '../../policy/bundle/load.js';
import { createEvaluator } from '../../policy/decider/evaluator.js';
import { policyInput } from '../../policy/testing/template-bundle.js';
import { contentRevision, PACKAGE_ROOT } from '../policy-commands.js';
import { buildDataBundle, EXAMPLE_BUNDLE_DIR } from './data-bundle.js';
import { demoGrants } from './policy-repo.js';

const REVISION = 'c0ffee'.repeat(7).slice(0, 40);
let work: string;

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'pgward-data-bundle-'));
  const template = path.join(PACKAGE_ROOT, 'policy', 'template');
  await cp(template, path.join(work, 'src'), { recursive: true });
  await cp(template, path.join(work, 'template'), { recursive: true });
  // The committed bundle, its revision recorded as built from the copied template.
  await cp(EXAMPLE_BUNDLE_DIR, path.join(work, 'example'), { recursive: true });
  const manifestFile = path.join(work, 'example', 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
  manifest.revision = contentRevision(path.join(work, 'template'));
  await writeFile(manifestFile, JSON.stringify(manifest));
});

const build = (outDir = path.join(work, 'out')) =>
  buildDataBundle({
    sourceDir: path.join(work, 'src'),
    outDir,
    revision: REVISION,
    exampleDir: path.join(work, 'example'),
    templateDir: path.join(work, 'template'),
    now: () => new Date('2026-11-24T10:00:00Z'),
  });

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the data-only bundle build', () => {
  it('serves the committed policy.wasm with the repository’s grants', async () => {
    const now = Date.parse('2026-11-24T10:00:00Z');
    for (const g of demoGrants(now))
      await writeFile(path.join(work, 'src', 'grants', `${g.id}.json`), JSON.stringify(g));
    const out = path.join(work, 'out');
    const manifest = await build(out);
    expect(manifest.revision).toBe(REVISION);
    const loaded = await loadBundle(out);
    if (!loaded.ok) throw new Error(loaded.message);
    expect(loaded.wasm).toEqual(await readFile(path.join(EXAMPLE_BUNDLE_DIR, 'policy.wasm')));
    expect(loaded.canaries.length).toBeGreaterThan(0);
    const evaluator = await createEvaluator(loaded);
    const read = (sub: string, groups: string[]) =>
      evaluator.evaluate(
        policyInput({
          sub,
          groups,
          database: 'shop',
          now: '2026-11-24T11:00:00.000Z',
          statement: {
            reads: [{ schema: 'public', table: 'customers', columns: ['id', 'email'] }],
          },
        }),
      );
    const analytics = read('mcp-analytics', ['analytics']);
    expect(analytics.outcome).toBe('masked');
    expect(analytics.grant_ids).toEqual(['demo-analytics-shop']);
    expect(read('someone-else', []).outcome).toBe('blocked');
  });

  it('refuses a repository whose Rego is not the Rego policy.wasm was compiled from', async () => {
    const rego = path.join(work, 'src', 'pgward', 'decision.rego');
    await writeFile(rego, `${await readFile(rego, 'utf8')}\n# changed\n`);
    await expect(build()).rejects.toMatchObject({
      code: 'PGW_POLICY_SOURCE_INVALID',
      message: /differs from the Rego/,
    });
  });

  it('refuses an example bundle that was not built from the template as it is', async () => {
    await writeFile(path.join(work, 'template', 'README.md'), 'edited after the build\n');
    await expect(build()).rejects.toMatchObject({
      code: 'PGW_POLICY_BUNDLE_UNREADABLE',
      message: /was not built from policy\/template/,
    });
  });

  it('refuses invalid data, as the real build does', async () => {
    await writeFile(path.join(work, 'src', 'grants', 'broken.json'), '{"id": "broken"}');
    await expect(build()).rejects.toMatchObject({ code: 'PGW_POLICY_SOURCE_INVALID' });
  });
});
