// Builds a policy bundle from a policy repository: validate every JSON file, merge the data
// document, compile the Rego with the real `opa build -t wasm -e pgward/decision`, extract
// policy.wasm and data.json, prove the result loads and passes its canaries, then write
// policy.wasm, data.json, canary.json and (last, as the commit point) manifest.json.

import { copyFile, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../lib/files.js';
import type { BundleFileName, BundleManifest, BundleRevision } from '../contracts.js';
import { runCanaries } from '../decider/canary.js';
import { createEvaluator, ENTRYPOINT } from '../decider/evaluator.js';
import { formatProblems, PolicyError } from '../errors.js';
import { policyValidators, summarizeErrors } from '../schemas.js';
import { readBytesBounded } from './files.js';
import { MANIFEST_FILE, type SigningKey, sha256Hex, signManifest } from './manifest.js';
import { opaOutput, opaVersion, runOpa } from './opa.js';
import { readPolicySource } from './source.js';
import { readTarGz } from './tar.js';

export interface BuildBundleOptions {
  /** The policy repository (pgward/*.rego, data/, grants/, approvals/, canary.json). */
  readonly sourceDir: string;
  /** Where policy.wasm, data.json, canary.json and manifest.json are written. */
  readonly outDir: string;
  /** The pinned OPA CLI. */
  readonly opaPath: string;
  /** The source commit sha the bundle is built from. */
  readonly revision: string;
  /** Signs the manifest (Ed25519) when given. */
  readonly signing?: SigningKey;
  readonly now?: () => Date;
  readonly opaTimeoutMs?: number;
}

const MAX_BUNDLE_ARCHIVE_BYTES = 64 * 1024 * 1024;
const REVISION = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

export async function buildBundle(options: BuildBundleOptions): Promise<BundleManifest> {
  if (!REVISION.test(options.revision)) {
    throw new PolicyError(
      'PGW_POLICY_SOURCE_INVALID',
      'revision must be a 40- or 64-hex commit sha',
    );
  }
  const revision = options.revision as BundleRevision;
  const source = await readPolicySource(options.sourceDir);
  if (source.problems.length > 0) {
    throw new PolicyError(
      'PGW_POLICY_SOURCE_INVALID',
      `policy source ${options.sourceDir} has ${source.problems.length} problem(s):\n${formatProblems(source.problems)}`,
      { problems: source.problems },
    );
  }
  const version = await opaVersion(options.opaPath);
  if (version === undefined) {
    throw new PolicyError('PGW_POLICY_OPA_FAILED', `cannot run ${options.opaPath} version`);
  }

  const work = await mkdtemp(path.join(tmpdir(), 'pgward-bundle-'));
  try {
    const stage = path.join(work, 'stage');
    for (const rel of source.regoFiles) {
      await mkdir(path.dirname(path.join(stage, rel)), { recursive: true });
      await copyFile(path.join(options.sourceDir, rel), path.join(stage, rel));
    }
    await writeFileAtomic(path.join(stage, 'data.json'), JSON.stringify(source.data));

    const archive = path.join(work, 'bundle.tar.gz');
    const args = [
      'build',
      '-t',
      'wasm',
      '-e',
      ENTRYPOINT,
      '-r',
      revision,
      '-b',
      '.',
      '-o',
      archive,
    ];
    const run = await runOpa(options.opaPath, args, {
      cwd: stage,
      ...(options.opaTimeoutMs === undefined ? {} : { timeoutMs: options.opaTimeoutMs }),
    });
    if (run.code !== 0) {
      throw new PolicyError(
        'PGW_POLICY_OPA_FAILED',
        `opa build failed:\n${opaOutput(run).slice(0, 8000)}`,
      );
    }
    const files = await extract(archive);
    const wasm = files.get('policy.wasm')!;
    const dataBytes = files.get('data.json')!;

    const evaluator = await createEvaluator({
      manifest: { revision },
      wasm,
      data: JSON.parse(dataBytes.toString('utf8')),
    });
    if (evaluator.failure !== null) {
      throw new PolicyError(
        'PGW_POLICY_WASM_REJECTED',
        `the compiled policy does not load: ${evaluator.failure.message}`,
      );
    }
    const out = new Map<BundleFileName, Buffer>([
      ['policy.wasm', wasm],
      ['data.json', dataBytes],
    ]);
    if (source.canaries !== null) {
      const result = runCanaries(evaluator, source.canaries.cases);
      if (!result.ok) {
        const problems = result.failures.map((f) => ({
          file: 'canary.json',
          pointer: `/cases/${source.canaries!.cases.findIndex((c) => c.name === f.name)}`,
          message: `${f.name}: ${f.problems.join('; ')}`,
        }));
        throw new PolicyError(
          'PGW_POLICY_CANARY_FAILED',
          `canaries failed:\n${formatProblems(problems)}`,
          { problems },
        );
      }
      out.set('canary.json', Buffer.from(`${JSON.stringify(source.canaries, null, 2)}\n`));
    }

    await mkdir(options.outDir, { recursive: true });
    if (!out.has('canary.json'))
      await rm(path.join(options.outDir, 'canary.json'), { force: true });
    for (const [name, bytes] of out) await writeFileAtomic(path.join(options.outDir, name), bytes);
    const unsigned: Omit<BundleManifest, 'signature'> = {
      format: 1,
      revision,
      built_at: (options.now?.() ?? new Date()).toISOString(),
      opa_version: version,
      entrypoint: ENTRYPOINT,
      files: [...out].map(([name, bytes]) => ({
        path: name,
        sha256: sha256Hex(bytes),
        size: bytes.length,
      })),
    };
    const manifest =
      options.signing === undefined ? unsigned : signManifest(unsigned, options.signing);
    const validate = policyValidators().manifest;
    if (!validate(manifest)) {
      throw new PolicyError(
        'PGW_POLICY_BUNDLE_UNREADABLE',
        `manifest is invalid: ${summarizeErrors(validate.errors)}`,
      );
    }
    await writeFileAtomic(
      path.join(options.outDir, MANIFEST_FILE),
      `${JSON.stringify(manifest, null, 2)}\n`,
    );
    return manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function extract(archive: string): Promise<ReadonlyMap<string, Buffer>> {
  const info = await stat(archive);
  const read = await readBytesBounded(archive, MAX_BUNDLE_ARCHIVE_BYTES);
  if (!read.ok) {
    throw new PolicyError(
      'PGW_POLICY_BUNDLE_UNREADABLE',
      `opa's bundle (${info.size} bytes) ${read.message}`,
    );
  }
  const tar = readTarGz(read.bytes, new Set(['policy.wasm', 'data.json']));
  if (!tar.ok) throw new PolicyError('PGW_POLICY_BUNDLE_UNREADABLE', tar.message);
  for (const name of ['policy.wasm', 'data.json']) {
    if (!tar.files.has(name)) {
      throw new PolicyError('PGW_POLICY_BUNDLE_UNREADABLE', `opa's bundle holds no /${name}`);
    }
  }
  return tar.files;
}
