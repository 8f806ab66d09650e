// Bundle manifest helpers: file digests, and the signing payload shared by the build (which
// signs) and the loader (which verifies), so both sides agree on exactly which bytes are signed.

import { createHash, type KeyObject, sign, verify } from 'node:crypto';
import type { BundleManifest } from '../contracts.js';

export const MANIFEST_FILE = 'manifest.json';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The bytes a bundle signature covers: every manifest field except the signature, one per line,
 * files sorted by path. A line format rather than JSON, so no canonicalisation is needed.
 */
export function signingPayload(manifest: Omit<BundleManifest, 'signature'>): Buffer {
  const lines = [
    'pgward-bundle-manifest-v1',
    `format ${manifest.format}`,
    `revision ${manifest.revision}`,
    `built_at ${manifest.built_at}`,
    `opa_version ${manifest.opa_version}`,
    `entrypoint ${manifest.entrypoint}`,
    ...[...manifest.files]
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map((f) => `file ${f.path} ${f.sha256} ${f.size}`),
  ];
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

export interface SigningKey {
  readonly keyId: string;
  /** An Ed25519 private key. */
  readonly privateKey: KeyObject;
}

export function signManifest(
  manifest: Omit<BundleManifest, 'signature'>,
  key: SigningKey,
): BundleManifest {
  const value = sign(null, signingPayload(manifest), key.privateKey).toString('base64');
  return { ...manifest, signature: { algorithm: 'ed25519', key_id: key.keyId, value } };
}

/** True when the manifest carries a valid Ed25519 signature by `publicKey`. */
export function verifyManifestSignature(manifest: BundleManifest, publicKey: KeyObject): boolean {
  if (manifest.signature === undefined) return false;
  const { signature, ...unsigned } = manifest;
  try {
    return verify(
      null,
      signingPayload(unsigned),
      publicKey,
      Buffer.from(signature.value, 'base64'),
    );
  } catch {
    // A key of the wrong type or a malformed signature is simply not a valid signature.
    return false;
  }
}
