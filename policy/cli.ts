// What `pgward policy test|build` run: schema validation of every JSON file, `opa fmt --list`,
// `opa check --strict` and `opa test` with the pinned OPA, as one structured result; and the
// bundle build as a result value instead of an exception.

import { access } from 'node:fs/promises';
import path from 'node:path';
import { type BuildBundleOptions, buildBundle } from './bundle/build.js';
import { type OpaRun, opaOutput, runOpa } from './bundle/opa.js';
import { readPolicySource } from './bundle/source.js';
import type { BundleManifest, PolicyProblem } from './contracts.js';
import { PolicyError, type PolicyErrorCode } from './errors.js';

export interface RegoTestFailure {
  readonly name: string;
  readonly package: string;
  readonly file?: string;
  readonly row?: number;
  readonly message?: string;
}

export interface PolicyTestResult {
  readonly ok: boolean;
  readonly schema: {
    readonly ok: boolean;
    readonly files: number;
    readonly problems: readonly PolicyProblem[];
  };
  /** `opa fmt --list`: files that are not formatted. */
  readonly format: {
    readonly ok: boolean;
    readonly files: readonly string[];
    readonly output: string;
  };
  /** `opa check --strict`. */
  readonly check: { readonly ok: boolean; readonly output: string };
  /** `opa test`. */
  readonly tests: {
    readonly ok: boolean;
    readonly passed: number;
    readonly failed: number;
    readonly errored: number;
    readonly failures: readonly RegoTestFailure[];
    readonly output: string;
  };
}

export interface PolicyTestOptions {
  readonly timeoutMs?: number;
}

export async function policyTest(
  sourceDir: string,
  opaPath: string,
  options: PolicyTestOptions = {},
): Promise<PolicyTestResult> {
  const source = await readPolicySource(sourceDir);
  const schema = {
    ok: source.problems.length === 0,
    files: source.jsonFiles.length,
    problems: source.problems,
  };
  const run = (args: string[]) =>
    runOpa(opaPath, args, {
      cwd: sourceDir,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });

  // grants/ and approvals/ are merged by the build, not loaded by opa (their files would clash).
  const regoRoots = [...new Set(source.regoFiles.map((rel) => rel.split('/')[0]!))].sort();
  if (regoRoots.length === 0) {
    const none = 'no .rego files';
    return {
      ok: false,
      schema,
      format: { ok: false, files: [], output: none },
      check: { ok: false, output: none },
      tests: { ok: false, passed: 0, failed: 0, errored: 0, failures: [], output: none },
    };
  }
  const dataRoots = (await exists(path.join(sourceDir, 'data'))) ? ['data'] : [];

  const fmt = await run(['fmt', '--list', ...regoRoots]);
  const unformatted = fmt.stdout.split('\n').filter((l) => l.trim() !== '');
  const format = {
    ok: fmt.code === 0 && unformatted.length === 0,
    files: unformatted,
    output: fmt.code === 0 ? '' : opaOutput(fmt),
  };

  const checkRun = await run(['check', '--strict', ...regoRoots]);
  const check = { ok: checkRun.code === 0, output: opaOutput(checkRun) };

  const testRun = await run(['test', '--format', 'json', ...regoRoots, ...dataRoots]);
  const tests = summarizeTests(testRun);

  return { ok: schema.ok && format.ok && check.ok && tests.ok, schema, format, check, tests };
}

function summarizeTests(run: OpaRun): PolicyTestResult['tests'] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(run.stdout);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed)) {
    return { ok: false, passed: 0, failed: 0, errored: 0, failures: [], output: opaOutput(run) };
  }
  let passed = 0;
  let failed = 0;
  let errored = 0;
  const failures: RegoTestFailure[] = [];
  for (const item of parsed as readonly Record<string, unknown>[]) {
    const location = (item.location ?? {}) as { file?: unknown; row?: unknown };
    const base = {
      name: String(item.name),
      package: String(item.package),
      ...(typeof location.file === 'string' ? { file: location.file } : {}),
      ...(typeof location.row === 'number' ? { row: location.row } : {}),
    };
    if (item.error !== undefined) {
      errored++;
      const message = (item.error as { message?: unknown }).message;
      failures.push({ ...base, message: typeof message === 'string' ? message : 'error' });
    } else if (item.fail === true) {
      failed++;
      failures.push({ ...base, message: 'failed' });
    } else if (item.skip !== true) {
      passed++;
    }
  }
  const ok = run.code === 0 && failed === 0 && errored === 0 && passed > 0;
  return { ok, passed, failed, errored, failures, output: run.stderr.trim() };
}

export type PolicyBuildResult =
  | { readonly ok: true; readonly manifest: BundleManifest }
  | {
      readonly ok: false;
      readonly code: PolicyErrorCode;
      readonly message: string;
      readonly problems: readonly PolicyProblem[];
    };

/** buildBundle as a result value, for the CLI to print. Unexpected faults still throw. */
export async function policyBuild(options: BuildBundleOptions): Promise<PolicyBuildResult> {
  try {
    return { ok: true, manifest: await buildBundle(options) };
  } catch (err) {
    if (err instanceof PolicyError) {
      return { ok: false, code: err.code, message: err.message, problems: err.problems };
    }
    throw err;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
