// The evaluator fails closed, with a clear message, on every kind of bad bundle: corrupt or
// truncated wasm, the wrong ABI, an unbounded memory, host built-ins, a missing entrypoint,
// data that makes the policy return garbage, and memory exhaustion; and it never throws.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../bundle/load.js';
import { runOpa } from '../bundle/opa.js';
import { readTarGz } from '../bundle/tar.js';
import type { BundleRevision, Decision } from '../contracts.js';
import { policyValidators } from '../schemas.js';
import {
  type BuiltBundle,
  buildTemplateBundle,
  OPA_PATH,
  policyInput,
  TEST_REVISION,
  tempDir,
} from '../testing/template-bundle.js';
import { fakeModule } from '../testing/wasm-bytes.js';
import { createEvaluator, denyAll, type EvaluatorFault } from './evaluator.js';

let bundle: BuiltBundle;
let wasm: Buffer;
let data: Record<string, unknown>;
const manifest = { revision: TEST_REVISION as BundleRevision };

beforeAll(async () => {
  bundle = await buildTemplateBundle();
  const loaded = await loadBundle(bundle.path);
  if (!loaded.ok) throw new Error(loaded.message);
  wasm = loaded.wasm;
  data = loaded.data as Record<string, unknown>;
});

afterAll(async () => {
  await bundle?.[Symbol.asyncDispose]();
});

/** Compiles a one-off Rego policy with the pinned opa and returns its policy.wasm. */
async function compileRego(rego: string, entrypoint = 'pgward/decision'): Promise<Buffer> {
  await using dir = await tempDir();
  await writeFile(path.join(dir.path, 'policy.rego'), rego);
  const out = path.join(dir.path, 'bundle.tar.gz');
  const run = await runOpa(
    OPA_PATH,
    ['build', '-t', 'wasm', '-e', entrypoint, '-o', out, 'policy.rego'],
    {
      cwd: dir.path,
    },
  );
  expect(run.code, run.stderr).toBe(0);
  const { readFile } = await import('node:fs/promises');
  const tar = readTarGz(await readFile(out), new Set(['policy.wasm']));
  if (!tar.ok) throw new Error(tar.message);
  return tar.files.get('policy.wasm')!;
}

function expectFailClosed(d: Decision, fragment: string): void {
  expect(policyValidators().decision(d)).toBe(true);
  expect(d).toMatchObject({ allow: false, outcome: 'blocked', mask: {}, grant_ids: [] });
  expect(d.reasons).toHaveLength(1);
  expect(d.reasons[0]).toMatchObject({ rule: 'policy.error', enforce: true });
  expect(d.reasons[0]!.message).toContain(fragment);
  expect(d.reasons[0]!.message).toContain('fail closed');
}

describe('a bundle that does not load', () => {
  it.each([
    [
      'corrupt wasm',
      () => Buffer.from(wasm.map((b, i) => (i > 64 && i % 7 === 0 ? b ^ 0xff : b))),
      'PGW_POLICY_WASM_INVALID',
      'not a valid WebAssembly module',
    ],
    [
      'truncated wasm',
      () => wasm.subarray(0, Math.floor(wasm.length / 2)),
      'PGW_POLICY_WASM_INVALID',
      'not a valid WebAssembly module',
    ],
    [
      'random bytes',
      () => Buffer.from('not wasm at all'),
      'PGW_POLICY_WASM_INVALID',
      'not a valid WebAssembly module',
    ],
    [
      'a module that is not an OPA policy',
      () => fakeModule({ opaExports: false }),
      'PGW_POLICY_ABI_UNSUPPORTED',
      'missing exports: opa_eval',
    ],
    [
      'a module with its own unbounded memory',
      () => fakeModule({ importMemory: false }),
      'PGW_POLICY_ABI_UNSUPPORTED',
      'does not import env.memory',
    ],
    [
      'OPA WASM ABI 2',
      () => fakeModule({ abiMajor: 2 }),
      'PGW_POLICY_ABI_UNSUPPORTED',
      'unsupported ABI version 2',
    ],
  ] as const)('%s', async (_name, bytes, code, fragment) => {
    const faults: EvaluatorFault[] = [];
    const e = await createEvaluator(
      { manifest, wasm: bytes(), data },
      { onFault: (f) => faults.push(f) },
    );
    expect(e.failure?.code).toBe(code);
    expect(e.failure?.message).toContain(fragment);
    expect(faults.map((f) => f.code)).toEqual([code]);
    expectFailClosed(e.evaluate(policyInput()), fragment);
    expect(e.revision).toBe(TEST_REVISION);
  });

  it('a policy that needs host built-ins (sprintf) is rejected at load', async () => {
    const policy = await compileRego('package pgward\n\ndecision := sprintf("%s", [input.x])\n');
    const e = await createEvaluator({ manifest, wasm: policy, data: {} });
    expect(e.failure?.code).toBe('PGW_POLICY_HOST_BUILTINS');
    expect(e.failure?.message).toContain('sprintf');
  });

  it('a policy without the pgward/decision entrypoint is rejected at load', async () => {
    const policy = await compileRego('package other\n\nallow := true\n', 'other/allow');
    const e = await createEvaluator({ manifest, wasm: policy, data: {} });
    expect(e.failure?.code).toBe('PGW_POLICY_ENTRYPOINT_MISSING');
    expectFailClosed(e.evaluate(policyInput()), 'no pgward/decision entrypoint');
  });

  it('data that is not an object is rejected at load', async () => {
    const e = await createEvaluator({ manifest, wasm, data: [1, 2, 3] });
    expect(e.failure?.code).toBe('PGW_POLICY_DATA_REJECTED');
  });

  it('data larger than the memory bound is rejected at load', async () => {
    const big = {
      ...data,
      masking: Object.fromEntries(
        Array.from({ length: 60_000 }, (_, i) => [`s.t.c${i}`, 'redact']),
      ),
    };
    const e = await createEvaluator(
      { manifest, wasm, data: big },
      { maxMemoryPages: 40, initialMemoryPages: 8 },
    );
    expect(e.failure?.code).toBe('PGW_POLICY_DATA_REJECTED');
    expect(e.failure?.message).toContain('data.json could not be loaded');
  });

  it('a throwing onFault hook does not make load or evaluation throw', async () => {
    const onFault = () => {
      throw new Error('metrics down');
    };
    const e = await createEvaluator({ manifest, wasm: Buffer.from('nope'), data }, { onFault });
    expectFailClosed(e.evaluate(policyInput()), 'not a valid WebAssembly module');
  });

  it('refuses invalid memory options', async () => {
    await expect(createEvaluator({ manifest, wasm, data }, { maxMemoryPages: 0 })).rejects.toThrow(
      RangeError,
    );
    await expect(
      createEvaluator({ manifest, wasm, data }, { maxMemoryPages: 8, initialMemoryPages: 9 }),
    ).rejects.toThrow(RangeError);
  });
});

describe('a policy that returns garbage', () => {
  it('a masking method outside the contract fails the Decision schema', async () => {
    const e = await createEvaluator({
      manifest,
      wasm,
      data: { ...data, masking: { 'public.orders.total': 'rot13' } },
    });
    expect(e.failure).toBeNull();
    expectFailClosed(e.evaluate(policyInput()), 'returned an invalid Decision');
    expect(e.evaluate(policyInput()).reasons[0]!.message).toContain('/mask/public.orders.total');
  });

  it('an approval trigger id that is not a rule id fails the Decision schema', async () => {
    const triggers = [{ id: 'Needs Approval!', description: 'x', actions: ['select'] }];
    const e = await createEvaluator({
      manifest,
      wasm,
      data: { ...data, approval_triggers: triggers },
    });
    expectFailClosed(e.evaluate(policyInput()), '/reasons/0/rule');
  });

  it('an undefined decision is no result', async () => {
    const policy = await compileRego(
      'package pgward\n\ndecision := {"allow": true} if input.never\n',
    );
    const faults: EvaluatorFault[] = [];
    const e = await createEvaluator(
      { manifest, wasm: policy, data: {} },
      { onFault: (f) => faults.push(f) },
    );
    expect(e.failure).toBeNull();
    expectFailClosed(e.evaluate(policyInput()), 'returned no decision');
    expect(faults.map((f) => f.code)).toEqual(['PGW_POLICY_NO_RESULT']);
  });

  it('garbage is refused and reported at every evaluation: an invalid result is never remembered', async () => {
    const faults: EvaluatorFault[] = [];
    const e = await createEvaluator(
      { manifest, wasm, data: { ...data, masking: { 'public.orders.total': 'rot13' } } },
      { onFault: (f) => faults.push(f) },
    );
    for (let i = 0; i < 3; i++) expectFailClosed(e.evaluate(policyInput()), 'invalid Decision');
    expect(faults.map((f) => f.code)).toEqual(Array(3).fill('PGW_POLICY_OUTPUT_INVALID'));
  });

  it('allow that contradicts the outcome is refused', async () => {
    const garbage = JSON.stringify({ ...denyAll('x'), allow: true, reasons: [] });
    const policy = await compileRego(`package pgward\n\ndecision := ${garbage}\n`);
    const e = await createEvaluator({ manifest, wasm: policy, data: {} });
    expectFailClosed(e.evaluate(policyInput()), 'allow=true with outcome blocked');
  });
});

describe('memory bound', () => {
  it('an input too large for the memory fails closed, and the next statement is judged normally', async () => {
    const faults: EvaluatorFault[] = [];
    const e = await createEvaluator(
      { manifest, wasm, data },
      { maxMemoryPages: 48, onFault: (f) => faults.push(f) },
    );
    expect(e.failure).toBeNull();
    const columns = Array.from({ length: 400_000 }, (_, i) => `column_${i}`);
    const huge = policyInput({
      statement: { reads: [{ schema: 'public', table: 'orders', columns }] },
    });
    expectFailClosed(e.evaluate(huge), 'evaluation failed');
    expect(faults[0]?.code).toBe('PGW_POLICY_EVAL_FAILED');
    expect(e.evaluate(policyInput())).toMatchObject({ allow: true, outcome: 'allowed' });
  });
});

describe('denyAll', () => {
  it('is a valid blocked Decision naming the reason', () => {
    const d = denyAll('no policy bundle has been loaded yet');
    expect(policyValidators().decision(d)).toBe(true);
    expect(d).toMatchObject({ allow: false, outcome: 'blocked' });
    expect(d.reasons).toEqual([
      { rule: 'policy.no_bundle', message: 'no policy bundle has been loaded yet', enforce: true },
    ]);
  });
});
