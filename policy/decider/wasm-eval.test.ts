// The single-call evaluation path against opa-wasm's own evaluate on the REAL template policy: the
// same result sets for plain, non-ASCII and memory-growing inputs, and a throw (never a partial
// result) when the input cannot fit under the memory's maximum.

import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { policyInput } from '../testing/template-bundle.js';
import { useTemplateBundle } from '../testing/template-fixture.js';
import { ENTRYPOINT } from './evaluator.js';
import { singleCallEvalText } from './wasm-eval.js';

const opaWasm = createRequire(import.meta.url)(
  '@open-policy-agent/opa-wasm',
) as typeof import('@open-policy-agent/opa-wasm');

const template = useTemplateBundle();
let wasm: Buffer;
let data: Record<string, unknown>;
beforeAll(() => {
  ({ wasm, data } = template);
});

async function loaded(maximum = 1024) {
  const policy = await opaWasm.loadPolicy(wasm, { initial: 2, maximum });
  policy.setData(data);
  const entrypoint = (policy.entrypoints as Record<string, number>)[ENTRYPOINT]!;
  const text = singleCallEvalText(policy, entrypoint);
  if (text === null) throw new Error('no single-call path');
  // The result set the text holds (the evaluator parses it the same way).
  const run = (input: unknown) => JSON.parse(text(input)) as unknown;
  return { policy, entrypoint, run };
}

const wide = (n: number) => Array.from({ length: n }, (_, i) => `column_${i}`);

describe('singleCallEvalText', () => {
  it('returns the result set opa-wasm returns, input after input', async () => {
    const { policy, entrypoint, run } = await loaded();
    const inputs = [
      policyInput(),
      policyInput({ sub: 'ünïcødé-主体-🚀', groups: ['ops'] }),
      policyInput({
        statement: { reads: [{ schema: 'public', table: 'orders', columns: ['€'] }] },
      }),
      // Several pages of input: the memory grows (the view over it is replaced) mid-sequence.
      policyInput({
        statement: { reads: [{ schema: 'public', table: 'orders', columns: wide(20_000) }] },
      }),
      policyInput({ now: 'not a time' }),
      policyInput(),
    ];
    for (const input of inputs) {
      expect(run(input)).toEqual(policy.evaluate(input, entrypoint));
    }
  });

  it('fails where opa-wasm fails: OPA refuses the escape JSON gives a lone surrogate', async () => {
    const { policy, entrypoint, run } = await loaded();
    const input = policyInput({ sub: 'lone \ud800 surrogate' });
    expect(() => policy.evaluate(input, entrypoint)).toThrow();
    expect(() => run(input)).toThrow();
    expect(run(policyInput())).toEqual(policy.evaluate(policyInput(), entrypoint));
  });

  it('throws for an input the memory cannot hold under its maximum, then evaluates again', async () => {
    const { policy, entrypoint, run } = await loaded(40);
    const huge = policyInput({
      statement: { reads: [{ schema: 'public', table: 'orders', columns: wide(400_000) }] },
    });
    expect(() => run(huge)).toThrow(RangeError);
    expect(run(policyInput())).toEqual(policy.evaluate(policyInput(), entrypoint));
  });

  it('evaluates with no input at all, like opa-wasm', async () => {
    const { policy, entrypoint, run } = await loaded();
    expect(run(undefined)).toEqual(policy.evaluate(undefined, entrypoint));
  });

  it('is null for an instance without the single-call export', () => {
    const memory = { buffer: new ArrayBuffer(65_536), grow: () => 1 };
    const state = { mem: memory, dataAddr: 8, dataHeapPtr: 64 };
    expect(singleCallEvalText({ ...state, wasmInstance: { exports: {} } }, 0)).toBeNull();
    expect(
      singleCallEvalText(
        { ...state, dataHeapPtr: undefined, wasmInstance: { exports: { opa_eval: () => 0 } } },
        0,
      ),
    ).toBeNull();
  });
});
