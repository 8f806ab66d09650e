// Loads a built bundle from a directory and verifies it: manifest schema, optional signature,
// the size and sha256 of every file, data and canaries against their schemas. Every failure is
// a value with a code and a clear message; nothing here throws.

import type { KeyObject } from 'node:crypto';
import path from 'node:path';
import { assertNever } from '../../lib/errors.js';
import type { BundleFileName, BundleManifest, CanaryCase } from '../contracts.js';
import { policyValidators, summarizeErrors } from '../schemas.js';
import { readBytesBounded } from './files.js';
import { MANIFEST_FILE, sha256Hex, verifyManifestSignature } from './manifest.js';

export type BundleLoadFailureCode =
  | 'PGW_BUNDLE_MISSING_FILE'
  | 'PGW_BUNDLE_TOO_LARGE'
  | 'PGW_BUNDLE_UNREADABLE'
  | 'PGW_BUNDLE_MANIFEST_INVALID'
  | 'PGW_BUNDLE_SIGNATURE_INVALID'
  | 'PGW_BUNDLE_HASH_MISMATCH'
  | 'PGW_BUNDLE_DATA_INVALID'
  | 'PGW_BUNDLE_CANARY_INVALID';

export interface LoadedBundle {
  readonly manifest: BundleManifest;
  readonly wasm: Buffer;
  readonly data: unknown;
  readonly canaries: readonly CanaryCase[];
}

export type BundleLoadResult =
  | ({ readonly ok: true } & LoadedBundle)
  | { readonly ok: false; readonly code: BundleLoadFailureCode; readonly message: string };

export interface LoadBundleOptions {
  /** Per-file size limits in bytes. */
  readonly maxBytes?: Partial<Readonly<Record<BundleFileName | 'manifest.json', number>>>;
  /** When given, the manifest must be signed by one of these Ed25519 keys (by key_id). */
  readonly trustedKeys?: ReadonlyMap<string, KeyObject>;
}

const DEFAULT_MAX_BYTES: Readonly<Record<BundleFileName | 'manifest.json', number>> = {
  'manifest.json': 1024 * 1024,
  'policy.wasm': 64 * 1024 * 1024,
  'data.json': 64 * 1024 * 1024,
  'canary.json': 4 * 1024 * 1024,
};

type Failure = Extract<BundleLoadResult, { ok: false }>;
const fail = (code: BundleLoadFailureCode, message: string): Failure => ({
  ok: false,
  code,
  message,
});

export async function loadBundle(
  dir: string,
  options: LoadBundleOptions = {},
): Promise<BundleLoadResult> {
  try {
    return await load(dir, options);
  } catch (err) {
    return fail('PGW_BUNDLE_UNREADABLE', `bundle ${dir} cannot be read: ${(err as Error).message}`);
  }
}

async function load(dir: string, options: LoadBundleOptions): Promise<BundleLoadResult> {
  const limit = (name: BundleFileName | 'manifest.json'): number =>
    options.maxBytes?.[name] ?? DEFAULT_MAX_BYTES[name];
  const validators = policyValidators();

  const manifestRead = await read(dir, MANIFEST_FILE, limit(MANIFEST_FILE));
  if (!manifestRead.ok) return manifestRead;
  const manifestDoc = parseJson(manifestRead.bytes);
  if (manifestDoc === undefined)
    return fail('PGW_BUNDLE_MANIFEST_INVALID', 'manifest.json is not valid JSON');
  if (!validators.manifest(manifestDoc)) {
    return fail(
      'PGW_BUNDLE_MANIFEST_INVALID',
      `manifest.json is invalid: ${summarizeErrors(validators.manifest.errors)}`,
    );
  }
  const manifest = manifestDoc;
  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  if (listed.size !== manifest.files.length)
    return fail('PGW_BUNDLE_MANIFEST_INVALID', 'manifest.json lists a file twice');
  for (const required of ['policy.wasm', 'data.json'] as const) {
    if (!listed.has(required))
      return fail('PGW_BUNDLE_MANIFEST_INVALID', `manifest.json does not list ${required}`);
  }

  if (options.trustedKeys !== undefined) {
    const sig = manifest.signature;
    if (sig === undefined)
      return fail('PGW_BUNDLE_SIGNATURE_INVALID', 'manifest.json is not signed');
    const key = options.trustedKeys.get(sig.key_id);
    if (key === undefined)
      return fail(
        'PGW_BUNDLE_SIGNATURE_INVALID',
        `manifest.json is signed by unknown key ${sig.key_id}`,
      );
    if (!verifyManifestSignature(manifest, key)) {
      return fail(
        'PGW_BUNDLE_SIGNATURE_INVALID',
        `manifest.json signature by ${sig.key_id} does not verify`,
      );
    }
  }

  const contents = new Map<BundleFileName, Buffer>();
  for (const entry of manifest.files) {
    const got = await read(dir, entry.path, limit(entry.path));
    if (!got.ok) return got;
    if (got.bytes.length !== entry.size) {
      return fail(
        'PGW_BUNDLE_HASH_MISMATCH',
        `${entry.path} is ${got.bytes.length} bytes, manifest says ${entry.size}`,
      );
    }
    const digest = sha256Hex(got.bytes);
    if (digest !== entry.sha256) {
      return fail(
        'PGW_BUNDLE_HASH_MISMATCH',
        `${entry.path} has sha256 ${digest}, manifest says ${entry.sha256}`,
      );
    }
    contents.set(entry.path, got.bytes);
  }

  const data = parseJson(contents.get('data.json')!);
  if (data === undefined) return fail('PGW_BUNDLE_DATA_INVALID', 'data.json is not valid JSON');
  if (!validators.data(data)) {
    return fail(
      'PGW_BUNDLE_DATA_INVALID',
      `data.json is invalid: ${summarizeErrors(validators.data.errors)}`,
    );
  }
  let canaries: readonly CanaryCase[] = [];
  const canaryBytes = contents.get('canary.json');
  if (canaryBytes !== undefined) {
    const doc = parseJson(canaryBytes);
    if (doc === undefined || !validators.canaries(doc)) {
      const why =
        doc === undefined ? 'not valid JSON' : summarizeErrors(validators.canaries.errors);
      return fail('PGW_BUNDLE_CANARY_INVALID', `canary.json is invalid: ${why}`);
    }
    canaries = doc.cases;
  }
  return { ok: true, manifest, wasm: contents.get('policy.wasm')!, data, canaries };
}

async function read(
  dir: string,
  name: string,
  maxBytes: number,
): Promise<{ readonly ok: true; readonly bytes: Buffer } | Failure> {
  const got = await readBytesBounded(path.join(dir, name), maxBytes);
  if (got.ok) return got;
  switch (got.reason) {
    case 'missing':
      return fail('PGW_BUNDLE_MISSING_FILE', `${name} is missing from bundle ${dir}`);
    case 'too_large':
      return fail('PGW_BUNDLE_TOO_LARGE', `${name} ${got.message}`);
    case 'unreadable':
      return fail('PGW_BUNDLE_UNREADABLE', `${name} ${got.message}`);
    default:
      return assertNever(got.reason, 'read failure');
  }
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
