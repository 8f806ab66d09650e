// The demo's "data-only" bundle build: no OPA at run time. The policy.wasm committed in
// policy/example-bundle (compiled from policy/template by the pinned opa) is served with a data.json
// assembled from the repository's data/, grants/ and approvals/ — refused when the repository's Rego
// differs from the Rego that policy.wasm was compiled from. What it was compiled from is recorded by
// the build itself: the example bundle's revision is the content hash of policy/template (`pgward
// policy build` of a directory that is not its own git checkout), which the demo recomputes.

import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../lib/files.js';
import { loadBundle } from '../../policy/bundle/load.js';
import { MANIFEST_FILE, sha256Hex } from '../../policy/bundle/manifest.js';
import { readPolicySource } from '../../policy/bundle/source.js';
import type { BundleFileName, BundleManifest, BundleRevision } from '../../policy/contracts.js';
import { runCanaries } from '../../policy/decider/canary.js';
import { createEvaluator, ENTRYPOINT } from '../../policy/decider/evaluator.js';
import { formatProblems, PolicyError } from '../../policy/errors.js';
import { policyValidators, summarizeErrors } from '../../policy/schemas.js';
import { contentRevision, PACKAGE_ROOT } from '../policy-commands.js';

/** The committed bundle whose policy.wasm the demo reuses, and the source it was built from. */
export const EXAMPLE_BUNDLE_DIR = path.join(PACKAGE_ROOT, 'policy', 'example-bundle');
export const TEMPLATE_DIR = path.join(PACKAGE_ROOT, 'policy', 'template');

/** sha256 over the Rego files (path, NUL, bytes, NUL, in path order). */
export async function regoDigest(sourceDir: string, regoFiles: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const rel of [...regoFiles].sort())
    hash
      .update(rel)
      .update('\0')
      .update(await readFile(path.join(sourceDir, rel)))
      .update('\0');
  return hash.digest('hex');
}

export interface DataBundleOptions {
  /** A checkout of the policy repository (pgward/*.rego, data/, grants/, approvals/, canary.json). */
  readonly sourceDir: string;
  readonly outDir: string;
  /** The source commit (40 or 64 hex digits). */
  readonly revision: string;
  readonly now?: () => Date;
  /** The bundle whose policy.wasm is reused (default policy/example-bundle)… */
  readonly exampleDir?: string;
  /** …and the source it was built from (default policy/template). */
  readonly templateDir?: string;
}

/**
 * Builds a bundle loadBundle() accepts — policy.wasm, data.json, canary.json and a manifest with the
 * sha256 of each — after the same source validation and canary run as `pgward policy build`.
 */
export async function buildDataBundle(options: DataBundleOptions): Promise<BundleManifest> {
  if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(options.revision))
    throw new PolicyError('PGW_POLICY_SOURCE_INVALID', 'revision must be a commit sha');
  const source = await readPolicySource(options.sourceDir);
  if (source.problems.length > 0) {
    throw new PolicyError(
      'PGW_POLICY_SOURCE_INVALID',
      `policy source has ${source.problems.length} problem(s):\n${formatProblems(source.problems)}`,
      { problems: source.problems },
    );
  }
  const example = await loadBundle(options.exampleDir ?? EXAMPLE_BUNDLE_DIR);
  if (!example.ok)
    throw new PolicyError('PGW_POLICY_BUNDLE_UNREADABLE', `example bundle: ${example.message}`);
  const templateDir = options.templateDir ?? TEMPLATE_DIR;
  // SECURITY: the reused policy.wasm must be the compilation of exactly this repository's Rego.
  if (example.manifest.revision !== contentRevision(templateDir)) {
    throw new PolicyError(
      'PGW_POLICY_BUNDLE_UNREADABLE',
      'policy/example-bundle was not built from policy/template as it is now; rebuild it with ' +
        '`pgward policy build --source policy/template --out policy/example-bundle --built-at 2026-01-01T00:00:00Z`',
    );
  }
  const template = await readPolicySource(templateDir);
  const sameFiles = source.regoFiles.join('\n') === template.regoFiles.join('\n');
  const [mine, compiled] = await Promise.all([
    regoDigest(options.sourceDir, source.regoFiles),
    regoDigest(templateDir, template.regoFiles),
  ]);
  if (!sameFiles || mine !== compiled) {
    throw new PolicyError(
      'PGW_POLICY_SOURCE_INVALID',
      'the Rego of this policy repository differs from the Rego policy/example-bundle/policy.wasm ' +
        'was compiled from; the demo serves data changes only (grants, approvals, rule data). ' +
        'Compile changed Rego with `pgward policy build` (needs the pinned opa).',
    );
  }
  const revision = options.revision as BundleRevision;
  const evaluator = await createEvaluator({
    manifest: { revision },
    wasm: example.wasm,
    data: source.data,
  });
  if (evaluator.failure !== null)
    throw new PolicyError('PGW_POLICY_WASM_REJECTED', evaluator.failure.message);
  const out = new Map<BundleFileName, Buffer>([
    ['policy.wasm', example.wasm],
    ['data.json', Buffer.from(JSON.stringify(source.data))],
  ]);
  if (source.canaries !== null) {
    const result = runCanaries(evaluator, source.canaries.cases);
    if (!result.ok) {
      const lines = result.failures.map((f) => `${f.name}: ${f.problems.join('; ')}`);
      throw new PolicyError('PGW_POLICY_CANARY_FAILED', `canaries failed:\n${lines.join('\n')}`);
    }
    out.set('canary.json', Buffer.from(`${JSON.stringify(source.canaries, null, 2)}\n`));
  }
  await rm(options.outDir, { recursive: true, force: true });
  await mkdir(options.outDir, { recursive: true });
  for (const [name, bytes] of out) await writeFileAtomic(path.join(options.outDir, name), bytes);
  const manifest: BundleManifest = {
    format: 1,
    revision,
    built_at: (options.now?.() ?? new Date()).toISOString(),
    // The compiler of the reused policy.wasm, not of this build (which runs none).
    opa_version: example.manifest.opa_version,
    entrypoint: ENTRYPOINT,
    files: [...out].map(([name, bytes]) => ({
      path: name,
      sha256: sha256Hex(bytes),
      size: bytes.length,
    })),
  };
  const validate = policyValidators().manifest;
  if (!validate(manifest))
    throw new PolicyError(
      'PGW_POLICY_BUNDLE_UNREADABLE',
      `manifest is invalid: ${summarizeErrors(validate.errors)}`,
    );
  await writeFileAtomic(
    path.join(options.outDir, MANIFEST_FILE),
    `${JSON.stringify(manifest, null, 2)}\n`,
  );
  const check = await loadBundle(options.outDir);
  if (!check.ok) throw new PolicyError('PGW_POLICY_BUNDLE_UNREADABLE', check.message);
  return manifest;
}
