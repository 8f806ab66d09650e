// Test support: builds the REAL template bundle with the pinned OPA into a temp directory, and
// builds policy inputs shaped exactly like schemas/policy-input.schema.json.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle } from '../bundle/build.js';
import type { BundleManifest, PolicyInput } from '../contracts.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const OPA_PATH = path.join(REPO_ROOT, '.tools', 'bin', 'opa');
export const TEMPLATE_DIR = path.join(REPO_ROOT, 'policy', 'template');
export const TEST_REVISION = '5ff51e4c0ffee5ff51e4c0ffee5ff51e4c0ffee5';

export interface TempDir extends AsyncDisposable {
  readonly path: string;
}

export async function tempDir(prefix = 'pgward-policy-test-'): Promise<TempDir> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { path: dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

export interface BuiltBundle extends TempDir {
  readonly manifest: BundleManifest;
}

/** Builds policy/template (or `sourceDir`) into a fresh temp directory. */
export async function buildTemplateBundle(sourceDir = TEMPLATE_DIR): Promise<BuiltBundle> {
  const dir = await tempDir('pgward-bundle-test-');
  try {
    const manifest = await buildBundle({
      sourceDir,
      outDir: dir.path,
      opaPath: OPA_PATH,
      revision: TEST_REVISION,
    });
    return { ...dir, manifest };
  } catch (err) {
    await dir[Symbol.asyncDispose]();
    throw err;
  }
}

export type StatementOverrides = Partial<PolicyInput['statement']>;

export interface InputOverrides {
  readonly sub?: string;
  readonly groups?: readonly string[];
  readonly database?: string;
  readonly now?: string;
  readonly statement?: StatementOverrides;
}

/** A SELECT of public.orders by svc-reporting on app at 2026-11-25T11:00:00.000Z, overridable. */
export function policyInput(o: InputOverrides = {}): PolicyInput {
  return {
    identity: {
      sub: o.sub ?? 'svc-reporting',
      groups: o.groups ?? [],
      issuer: 'https://idp.example',
      via: 'jwt',
    },
    session: { id: 's_test', database: o.database ?? 'app', application_name: 'vitest' },
    now: o.now ?? '2026-11-25T11:00:00.000Z',
    statement: {
      sha256: '9'.repeat(64),
      fingerprint: 'fp',
      index: 0,
      count: 1,
      command: 'SELECT',
      reads: [{ schema: 'public', table: 'orders', columns: ['id', 'total'] }],
      writes: [],
      functions: [],
      flags: [],
      estimated_rows: null,
      ...o.statement,
    },
  };
}
