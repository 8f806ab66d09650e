// loadBundle verifies a built bundle and reports every kind of damage as a value with a code and
// a clear message: missing files, hash or size mismatch, bad manifest, bad data, bad signature.

import { generateKeyPairSync } from 'node:crypto';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BundleManifest } from '../contracts.js';
import { createEvaluator } from '../decider/evaluator.js';
import {
  type BuiltBundle,
  buildTemplateBundle,
  OPA_PATH,
  TEMPLATE_DIR,
  TEST_REVISION,
  type TempDir,
  tempDir,
} from '../testing/template-bundle.js';
import { buildBundle } from './build.js';
import { loadBundle } from './load.js';
import { sha256Hex } from './manifest.js';

let built: BuiltBundle;
let copy: TempDir;

beforeAll(async () => {
  built = await buildTemplateBundle();
});

afterAll(async () => {
  await built?.[Symbol.asyncDispose]();
});

// Each test damages its own copy of the bundle.
beforeEach(async () => {
  copy = await tempDir('pgward-bundle-copy-');
  await cp(built.path, copy.path, { recursive: true });
  return () => copy[Symbol.asyncDispose]();
});

const file = (name: string) => path.join(copy.path, name);
const readManifest = async (): Promise<BundleManifest> =>
  JSON.parse(await readFile(file('manifest.json'), 'utf8'));
const writeManifest = (m: unknown) => writeFile(file('manifest.json'), JSON.stringify(m));

/** Replaces a file and records its new digest and size, so only deeper checks can catch it. */
async function replaceListed(name: string, bytes: Buffer): Promise<void> {
  await writeFile(file(name), bytes);
  const m = await readManifest();
  await writeManifest({
    ...m,
    files: m.files.map((f) =>
      f.path === name ? { ...f, sha256: sha256Hex(bytes), size: bytes.length } : f,
    ),
  });
}

async function expectFailure(code: string, fragment: string): Promise<void> {
  const result = await loadBundle(copy.path);
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.code).toBe(code);
  expect(result.message).toContain(fragment);
}

describe('loadBundle', () => {
  it('loads and verifies a good bundle', async () => {
    const result = await loadBundle(copy.path);
    if (!result.ok) throw new Error(result.message);
    expect(result.manifest.revision).toBe(TEST_REVISION);
    expect(result.manifest.opa_version).toBe('1.22.2');
    expect(result.wasm.subarray(0, 4)).toEqual(Buffer.from([0x00, 0x61, 0x73, 0x6d]));
    expect(result.canaries.length).toBeGreaterThanOrEqual(5);
    expect((result.data as { grants: unknown[] }).grants).toHaveLength(3);
  });

  it.each(['manifest.json', 'policy.wasm', 'data.json', 'canary.json'])(
    'reports a missing %s',
    async (name) => {
      await rm(file(name));
      await expectFailure('PGW_BUNDLE_MISSING_FILE', `${name} is missing`);
    },
  );

  it('reports a missing directory', async () => {
    const result = await loadBundle(path.join(copy.path, 'nope'));
    expect(result).toMatchObject({ ok: false, code: 'PGW_BUNDLE_MISSING_FILE' });
  });

  it('reports a changed policy.wasm of the same size by its sha256', async () => {
    const wasm = await readFile(file('policy.wasm'));
    wasm[wasm.length - 10]! ^= 0xff;
    await writeFile(file('policy.wasm'), wasm);
    await expectFailure('PGW_BUNDLE_HASH_MISMATCH', 'policy.wasm has sha256');
  });

  it('reports a truncated policy.wasm by its size', async () => {
    const wasm = await readFile(file('policy.wasm'));
    await writeFile(file('policy.wasm'), wasm.subarray(0, 1000));
    await expectFailure('PGW_BUNDLE_HASH_MISMATCH', 'policy.wasm is 1000 bytes, manifest says');
  });

  it('reports a changed data.json', async () => {
    const text = await readFile(file('data.json'), 'utf8');
    await writeFile(file('data.json'), text.replace('"enforce":true', '"enforce":false'));
    await expectFailure('PGW_BUNDLE_HASH_MISMATCH', 'data.json');
  });

  it('reports a manifest that is not JSON', async () => {
    await writeFile(file('manifest.json'), '{"format": 1,');
    await expectFailure('PGW_BUNDLE_MANIFEST_INVALID', 'not valid JSON');
  });

  it('reports a manifest for another entrypoint', async () => {
    await writeManifest({ ...(await readManifest()), entrypoint: 'other/allow' });
    await expectFailure('PGW_BUNDLE_MANIFEST_INVALID', '/entrypoint');
  });

  it('reports a manifest that lists a path outside the bundle', async () => {
    const m = await readManifest();
    await writeManifest({
      ...m,
      files: [...m.files, { path: '../etc/passwd', sha256: '0'.repeat(64), size: 1 }],
    });
    await expectFailure('PGW_BUNDLE_MANIFEST_INVALID', 'manifest.json is invalid');
  });

  it('reports a manifest without data.json', async () => {
    const m = await readManifest();
    await writeManifest({ ...m, files: m.files.filter((f) => f.path !== 'data.json') });
    await expectFailure('PGW_BUNDLE_MANIFEST_INVALID', 'does not list data.json');
  });

  it('reports data.json that fails the policy data schema even with a matching hash', async () => {
    await replaceListed(
      'data.json',
      Buffer.from(JSON.stringify({ masking: { 'public.t.c': 'rot13' } })),
    );
    await expectFailure('PGW_BUNDLE_DATA_INVALID', '/masking/public.t.c');
  });

  it('reports data.json that is not JSON even with a matching hash', async () => {
    await replaceListed('data.json', Buffer.from('{'));
    await expectFailure('PGW_BUNDLE_DATA_INVALID', 'not valid JSON');
  });

  it('reports a canary.json that fails its schema', async () => {
    await replaceListed('canary.json', Buffer.from(JSON.stringify({ cases: [{ name: 'x' }] })));
    await expectFailure('PGW_BUNDLE_CANARY_INVALID', 'canary.json is invalid');
  });

  it('enforces file size limits', async () => {
    const result = await loadBundle(copy.path, { maxBytes: { 'policy.wasm': 1024 } });
    expect(result).toMatchObject({ ok: false, code: 'PGW_BUNDLE_TOO_LARGE' });
  });

  it('loads corrupt wasm whose hash matches, and the evaluator then fails closed', async () => {
    await replaceListed('policy.wasm', Buffer.from('garbage, not wasm'));
    const result = await loadBundle(copy.path);
    if (!result.ok) throw new Error(result.message);
    const evaluator = await createEvaluator(result);
    expect(evaluator.failure?.code).toBe('PGW_POLICY_WASM_INVALID');
  });
});

describe('signed bundles', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');
  let signed: TempDir;

  beforeAll(async () => {
    signed = await tempDir('pgward-signed-');
    await buildBundle({
      sourceDir: TEMPLATE_DIR,
      outDir: signed.path,
      opaPath: OPA_PATH,
      revision: TEST_REVISION,
      signing: { keyId: 'ci-2026', privateKey },
    });
  });

  afterAll(async () => {
    await signed?.[Symbol.asyncDispose]();
  });

  it('verifies with the trusted key', async () => {
    const result = await loadBundle(signed.path, {
      trustedKeys: new Map([['ci-2026', publicKey]]),
    });
    expect(result.ok).toBe(true);
  });

  it('refuses an unknown key, a wrong key and a tampered manifest', async () => {
    expect(
      await loadBundle(signed.path, { trustedKeys: new Map([['other', publicKey]]) }),
    ).toMatchObject({
      ok: false,
      code: 'PGW_BUNDLE_SIGNATURE_INVALID',
      message: expect.stringContaining('unknown key ci-2026'),
    });
    expect(
      await loadBundle(signed.path, { trustedKeys: new Map([['ci-2026', other.publicKey]]) }),
    ).toMatchObject({
      ok: false,
      code: 'PGW_BUNDLE_SIGNATURE_INVALID',
    });
    const m = JSON.parse(
      await readFile(path.join(signed.path, 'manifest.json'), 'utf8'),
    ) as BundleManifest;
    await writeFile(
      path.join(signed.path, 'manifest.json'),
      JSON.stringify({ ...m, revision: 'f'.repeat(40) }),
    );
    expect(
      await loadBundle(signed.path, { trustedKeys: new Map([['ci-2026', publicKey]]) }),
    ).toMatchObject({
      ok: false,
      code: 'PGW_BUNDLE_SIGNATURE_INVALID',
      message: expect.stringContaining('does not verify'),
    });
  });

  it('refuses an unsigned bundle when keys are configured', async () => {
    expect(
      await loadBundle(copy.path, { trustedKeys: new Map([['ci-2026', publicKey]]) }),
    ).toMatchObject({
      ok: false,
      code: 'PGW_BUNDLE_SIGNATURE_INVALID',
      message: 'manifest.json is not signed',
    });
  });
});
