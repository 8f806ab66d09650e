// One policy evaluation through OPA's single-call ABI (1.2+): the input's JSON is encoded straight
// into the policy's memory, `opa_eval` runs the entrypoint, and the result set is read back as JSON.
// @see https://www.openpolicyagent.org/docs/wasm (evaluation with opa_eval, ABI 1.2)

const WASM_PAGE_BYTES = 65_536;

/** The parts of a loaded opa-wasm policy the single-call path uses. */
export interface LoadedPolicyState {
  readonly mem: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  readonly wasmInstance: unknown;
  readonly dataAddr: unknown;
  readonly dataHeapPtr: unknown;
}

type OpaEval = (
  reserved: number,
  entrypoint: number,
  dataAddr: number,
  inputAddr: number,
  inputLen: number,
  heapAddr: number,
  format: number,
) => number;

/**
 * Evaluates one input and returns the result set as the JSON text the policy wrote, unparsed; an
 * input given as `json` (its JSON text, already serialized by the caller) is written as it is.
 * Throws on any fault (a trap, memory exhaustion, an unreadable result).
 */
export type EvalTextFn = (input: unknown, json?: string) => string;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The single-call evaluation of `entrypoint` for a policy whose data is already set, or null when
 * the instance does not expose what it needs (then the caller keeps opa-wasm's own evaluate).
 * Same bytes in and out as opa-wasm's ABI 1.2 path, without a new encoder, decoder and copy of
 * the input per call; the input is written just above the data, and opa_eval resets the heap there.
 */
export function singleCallEvalText(
  policy: LoadedPolicyState,
  entrypoint: number,
): EvalTextFn | null {
  const exports = (policy.wasmInstance as { exports?: Record<string, unknown> } | null)?.exports;
  const opaEval = exports?.opa_eval;
  const { dataAddr, dataHeapPtr, mem } = policy;
  if (typeof opaEval !== 'function') return null;
  if (typeof dataAddr !== 'number' || typeof dataHeapPtr !== 'number') return null;
  const run = opaEval as OpaEval;
  return (input, json) => {
    // Like opa-wasm, a missing input (undefined, null, false, 0, '') evaluates with no input.
    const text = json ?? (input ? JSON.stringify(input) : '');
    let bytes = new Uint8Array(mem.buffer);
    let { read, written } = encoder.encodeInto(text, bytes.subarray(dataHeapPtr));
    if (read < text.length) {
      // SECURITY: growing past the memory's maximum throws (RangeError): the statement fails closed.
      const need = dataHeapPtr + Buffer.byteLength(text, 'utf8') - bytes.byteLength;
      mem.grow(Math.ceil(need / WASM_PAGE_BYTES));
      bytes = new Uint8Array(mem.buffer);
      ({ read, written } = encoder.encodeInto(text, bytes.subarray(dataHeapPtr)));
      if (read < text.length) throw new RangeError('the policy input does not fit in memory');
    }
    const inputAddr = written > 0 ? dataHeapPtr : 0;
    const resultAddr = run(0, entrypoint, dataAddr, inputAddr, written, dataHeapPtr + written, 0);
    // The evaluation may have grown (and so replaced) the memory's buffer.
    bytes = new Uint8Array(mem.buffer);
    const end = bytes.indexOf(0, resultAddr);
    if (resultAddr <= 0 || end < 0) throw new Error('the policy result is not a C string');
    return decoder.decode(bytes.subarray(resultAddr, end));
  };
}
