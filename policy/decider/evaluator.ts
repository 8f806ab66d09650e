// Evaluates the compiled policy (OPA WASM via opa-wasm) for one statement. Loading checks the
// module before running it; every evaluation's output is validated against the Decision schema.
// Nothing here throws at evaluation time: any fault is a fail-closed Decision (rule policy.error).

import { createRequire } from 'node:module';
import { toError } from '../../lib/errors.js';
import type { BundleManifest, BundleRevision, Decision, PolicyInput } from '../contracts.js';
import { policyValidators, summarizeErrors } from '../schemas.js';
import { withGrantIndex } from './grant-index.js';
import {
  abiVersionProblem,
  hostBuiltins,
  moduleShapeProblem,
  type WasmInstance,
  type WasmModule,
  wasm,
} from './wasm-abi.js';
import { type EvalTextFn, singleCallEvalText } from './wasm-eval.js';

// The package's ESM entry exports only loadPolicy; loadPolicySync (used to rebuild an instance
// inside a synchronous evaluate) lives on the CommonJS entry, so both come from there.
const opaWasm = createRequire(import.meta.url)(
  '@open-policy-agent/opa-wasm',
) as typeof import('@open-policy-agent/opa-wasm');
type LoadedPolicy = import('@open-policy-agent/opa-wasm').LoadedPolicy;

export const ENTRYPOINT = 'pgward/decision';
const WASM_PAGE_BYTES = 65_536;

export type EvaluatorFaultCode =
  | 'PGW_POLICY_WASM_INVALID'
  | 'PGW_POLICY_ABI_UNSUPPORTED'
  | 'PGW_POLICY_HOST_BUILTINS'
  | 'PGW_POLICY_ENTRYPOINT_MISSING'
  | 'PGW_POLICY_DATA_REJECTED'
  | 'PGW_POLICY_EVAL_FAILED'
  | 'PGW_POLICY_NO_RESULT'
  | 'PGW_POLICY_OUTPUT_INVALID';

export interface EvaluatorFault {
  readonly code: EvaluatorFaultCode;
  readonly message: string;
  readonly cause?: Error;
}

export interface EvaluatorOptions {
  /** Upper bound of the policy's WebAssembly memory, in 64 KiB pages (default 1024 = 64 MiB). */
  readonly maxMemoryPages?: number;
  /** Pages the memory starts with (default min(32, maxMemoryPages)); it grows up to the maximum. */
  readonly initialMemoryPages?: number;
  /** Called for every fault (load, evaluation, output), for logs and metrics. */
  readonly onFault?: (fault: EvaluatorFault) => void;
}

export interface EvaluatorBundle {
  readonly manifest: Pick<BundleManifest, 'revision'>;
  readonly wasm: Uint8Array;
  readonly data: unknown;
}

export interface Evaluator {
  readonly revision: BundleRevision;
  /** null when the bundle loaded; otherwise the reason every evaluation is denied. */
  readonly failure: EvaluatorFault | null;
  /** The decision for one statement; never throws. */
  evaluate(input: PolicyInput): Decision;
  /** evaluate() for an input the caller has serialized itself (the JSON text of a PolicyInput). */
  evaluateJson(json: string): Decision;
}

/** The decision when there is no usable policy at all: deny everything, say why. */
export function denyAll(reason: string, rule = 'policy.no_bundle'): Decision {
  return {
    allow: false,
    outcome: 'blocked',
    reasons: [{ rule, message: reason, enforce: true }],
    approval: { required: false, id: null },
    mask: {},
    grant_ids: [],
    limits: { max_rows: null, explain_max_rows: null },
    valid_until: null,
  };
}

type Instance = { readonly policy: LoadedPolicy; readonly run: EvalTextFn };

/**
 * Distinct result texts whose validated Decision is kept: most statements of a workload get one of a
 * few results, which are then not parsed and validated again. Past this the memo starts over.
 */
const VALIDATED_RESULTS = 256;
/** Longer result texts (large mask plans, long messages) are validated every time, not kept. */
const VALIDATED_RESULT_MAX_CHARS = 4096;

/** Freezes a parsed JSON value and everything in it (a remembered Decision is shared). */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export async function createEvaluator(
  bundle: EvaluatorBundle,
  options: EvaluatorOptions = {},
): Promise<Evaluator> {
  const revision = bundle.manifest.revision;
  const memory = memoryLimits(options);
  const validate = policyValidators().decision;
  const report = (fault: EvaluatorFault): void => {
    try {
      options.onFault?.(fault);
    } catch {
      // A failing log or metrics hook must not turn a fail-closed decision into a throw.
    }
  };
  const failClosed = (message: string): Decision =>
    denyAll(
      `policy bundle ${revision.slice(0, 12)}: ${message}; denied (fail closed)`,
      'policy.error',
    );

  const failed = (fault: EvaluatorFault): Evaluator => {
    report(fault);
    const decision = failClosed(fault.message);
    const deny = () => structuredClone(decision);
    return { revision, failure: fault, evaluate: deny, evaluateJson: deny };
  };

  let module: WasmModule;
  try {
    module = await wasm.compile(bundle.wasm);
  } catch (err) {
    return failed(
      fault('PGW_POLICY_WASM_INVALID', 'policy.wasm is not a valid WebAssembly module', err),
    );
  }
  const shape = moduleShapeProblem(module);
  if (shape !== null) return failed(fault('PGW_POLICY_ABI_UNSUPPORTED', `policy.wasm ${shape}`));

  let first: Instance | EvaluatorFault;
  try {
    first = prepare(await opaWasm.loadPolicy(module, { ...memory }), bundle.data, memory.maximum);
  } catch (err) {
    first = fault('PGW_POLICY_ABI_UNSUPPORTED', 'policy.wasm does not load as an OPA policy', err);
  }
  if (!('policy' in first)) return failed(first);

  let current: Instance | EvaluatorFault = first;

  /** After a fault, start from a fresh instance (memory state after a trap is not trusted). */
  const rebuild = (): void => {
    try {
      current = prepare(opaWasm.loadPolicySync(module, { ...memory }), bundle.data, memory.maximum);
    } catch (err) {
      current = fault('PGW_POLICY_ABI_UNSUPPORTED', 'policy.wasm could not be reloaded', err);
    }
    if (!('policy' in current)) report(current);
  };

  /**
   * Result texts already parsed and validated, with their (frozen) Decision. SECURITY: keyed by the
   * exact bytes the policy wrote, so a remembered Decision is the one validating those bytes gives.
   */
  const validated = new Map<string, Decision>();

  const evaluate = (input: PolicyInput | null, json?: string): Decision => {
    const instance = current;
    if (!('policy' in instance)) return failClosed(instance.message);
    let text: string;
    let resultSet: unknown;
    try {
      text = instance.run(input, json);
      const known = validated.get(text);
      if (known !== undefined) return known;
      resultSet = JSON.parse(text);
    } catch (err) {
      report(fault('PGW_POLICY_EVAL_FAILED', `evaluation failed: ${toError(err).message}`, err));
      rebuild();
      return failClosed(`evaluation failed: ${toError(err).message}`);
    }
    const decision = validateResult(resultSet);
    if ('failure' in decision) return failClosed(decision.failure);
    if (text.length > VALIDATED_RESULT_MAX_CHARS) return decision.value;
    if (validated.size >= VALIDATED_RESULTS) validated.clear();
    validated.set(text, deepFreeze(decision.value));
    return decision.value;
  };

  /** The Decision in a parsed result set, or why it is not one (reported as a fault). */
  const validateResult = (resultSet: unknown): { value: Decision } | { failure: string } => {
    if (!Array.isArray(resultSet) || resultSet.length === 0) {
      report(fault('PGW_POLICY_NO_RESULT', `${ENTRYPOINT} is undefined for this input`));
      return { failure: `${ENTRYPOINT} returned no decision` };
    }
    const only: unknown = resultSet.length === 1 ? resultSet[0] : undefined;
    const value: unknown =
      only !== null && typeof only === 'object' ? (only as { result?: unknown }).result : undefined;
    if (!validate(value)) {
      const why =
        resultSet.length === 1 ? summarizeErrors(validate.errors) : `${resultSet.length} results`;
      report(
        fault('PGW_POLICY_OUTPUT_INVALID', `${ENTRYPOINT} returned an invalid Decision: ${why}`),
      );
      return { failure: `${ENTRYPOINT} returned an invalid Decision (${why})` };
    }
    // SECURITY: a Decision that allows must say so in both fields; anything else is garbage.
    if (value.allow !== (value.outcome === 'allowed' || value.outcome === 'masked')) {
      report(
        fault(
          'PGW_POLICY_OUTPUT_INVALID',
          `allow=${value.allow} contradicts outcome ${value.outcome}`,
        ),
      );
      return {
        failure: `${ENTRYPOINT} returned allow=${value.allow} with outcome ${value.outcome}`,
      };
    }
    return { value };
  };

  return {
    revision,
    failure: null,
    evaluate: (input) => evaluate(input),
    evaluateJson: (json) => evaluate(null, json),
  };
}

/** Checks a freshly loaded policy and gives it the data; a fault value when it is unusable. */
function prepare(policy: LoadedPolicy, data: unknown, maxPages: number): Instance | EvaluatorFault {
  const instance = policy.wasmInstance as unknown as WasmInstance;
  const abi = abiVersionProblem(instance);
  if (abi !== null) return fault('PGW_POLICY_ABI_UNSUPPORTED', `policy.wasm ${abi}`);
  const builtins = hostBuiltins(instance, policy.mem);
  if (builtins.length > 0) {
    return fault(
      'PGW_POLICY_HOST_BUILTINS',
      `policy.wasm needs built-ins the gateway does not implement: ${builtins.join(', ')} (use natively compiled ones, e.g. concat instead of sprintf)`,
    );
  }
  const entrypoints = policy.entrypoints as Record<string, unknown>;
  const entrypoint = Object.hasOwn(entrypoints, ENTRYPOINT) ? entrypoints[ENTRYPOINT] : undefined;
  if (typeof entrypoint !== 'number') {
    return fault('PGW_POLICY_ENTRYPOINT_MISSING', `policy.wasm has no ${ENTRYPOINT} entrypoint`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return fault('PGW_POLICY_DATA_REJECTED', 'data.json is not a JSON object');
  }
  try {
    policy.setData(withGrantIndex(data as Record<string, unknown>));
  } catch (err) {
    const detail =
      err instanceof RangeError ? `exceeds ${maxPages} memory pages` : toError(err).message;
    return fault(
      'PGW_POLICY_DATA_REJECTED',
      `data.json could not be loaded into the policy: ${detail}`,
      err,
    );
  }
  const run =
    singleCallEvalText(policy, entrypoint) ??
    ((input, json) =>
      JSON.stringify(policy.evaluate(json === undefined ? input : JSON.parse(json), entrypoint)));
  return { policy, run };
}

function fault(code: EvaluatorFaultCode, message: string, cause?: unknown): EvaluatorFault {
  if (cause === undefined) return { code, message };
  const error = toError(cause);
  return { code, message: `${message}: ${error.message}`, cause: error };
}

function memoryLimits(options: EvaluatorOptions): { initial: number; maximum: number } {
  const maximum = options.maxMemoryPages ?? 1024;
  const initial = options.initialMemoryPages ?? Math.min(32, maximum);
  if (!Number.isInteger(maximum) || maximum < 1 || maximum > 65_536) {
    throw new RangeError(
      `maxMemoryPages must be an integer in 1..65536 (pages of ${WASM_PAGE_BYTES} bytes)`,
    );
  }
  if (!Number.isInteger(initial) || initial < 1 || initial > maximum) {
    throw new RangeError('initialMemoryPages must be an integer in 1..maxMemoryPages');
  }
  return { initial, maximum };
}
