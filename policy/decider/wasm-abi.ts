// Checks that a WebAssembly module is an OPA policy the gateway can run before anything calls
// into it: the OPA WASM ABI exports, imports limited to OPA's env functions and an imported
// (hence bounded) memory, ABI version 1.2+, and no built-in the host would have to implement.
// @see https://www.openpolicyagent.org/docs/wasm (ABI, exports, imports, built-ins)

/** The slice of the WebAssembly JS API used here (TypeScript types it only in lib.dom). */
export interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}
export interface WasmInstance {
  readonly exports: Readonly<Record<string, unknown>>;
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmDescriptor {
  readonly module?: string;
  readonly name: string;
  readonly kind: string;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  readonly Module: {
    imports(module: WasmModule): WasmDescriptor[];
    exports(module: WasmModule): WasmDescriptor[];
  };
  readonly Global: abstract new (...args: never[]) => { readonly value: unknown };
}

export const wasm = (globalThis as unknown as { readonly WebAssembly: WasmApi }).WebAssembly;

const REQUIRED_FUNCTIONS = [
  'opa_eval',
  'opa_malloc',
  'opa_heap_ptr_get',
  'opa_heap_ptr_set',
  'opa_json_parse',
  'opa_json_dump',
  'builtins',
  'entrypoints',
] as const;

const REQUIRED_GLOBALS = ['opa_wasm_abi_version', 'opa_wasm_abi_minor_version'] as const;

const ALLOWED_IMPORTS = new Set([
  'memory',
  'opa_abort',
  'opa_println',
  'opa_builtin0',
  'opa_builtin1',
  'opa_builtin2',
  'opa_builtin3',
  'opa_builtin4',
]);

/** Why `module` is not an OPA policy module, or null when its imports and exports fit. */
export function moduleShapeProblem(module: WasmModule): string | null {
  const imports = wasm.Module.imports(module);
  for (const imp of imports) {
    if (imp.module !== 'env' || !ALLOWED_IMPORTS.has(imp.name)) {
      return `imports ${imp.module}.${imp.name}, which an OPA policy never needs`;
    }
  }
  // SECURITY: the memory must be ours (imported, with a maximum), or the page bound is moot.
  if (!imports.some((i) => i.name === 'memory' && i.kind === 'memory')) {
    return 'does not import env.memory, so its memory could not be bounded';
  }
  const exports = new Map(wasm.Module.exports(module).map((e) => [e.name, e.kind]));
  const missing = [
    ...REQUIRED_FUNCTIONS.filter((n) => exports.get(n) !== 'function'),
    ...REQUIRED_GLOBALS.filter((n) => exports.get(n) !== 'global'),
  ];
  if (missing.length > 0) return `is not an OPA policy (missing exports: ${missing.join(', ')})`;
  return null;
}

/** Why the instantiated policy's ABI version is unusable, or null for 1.2 and later 1.x. */
export function abiVersionProblem(instance: WasmInstance): string | null {
  const major = globalValue(instance, 'opa_wasm_abi_version');
  const minor = globalValue(instance, 'opa_wasm_abi_minor_version');
  if (major !== 1 || minor === undefined || minor < 2) {
    return `uses OPA WASM ABI ${String(major)}.${String(minor)}; the gateway runs ABI 1.2 or later 1.x`;
  }
  return null;
}

function globalValue(instance: WasmInstance, name: string): number | undefined {
  const g = instance.exports[name];
  if (g instanceof wasm.Global && typeof g.value === 'number') return g.value;
  return undefined;
}

/**
 * Names of the built-ins the policy expects the host to implement (OPA compiles most natively;
 * sprintf, time.parse_rfc3339_ns and others it does not). The gateway implements none, so a
 * non-empty list rejects the bundle at load rather than failing at the first statement.
 */
export function hostBuiltins(instance: WasmInstance, memory: WasmMemory): string[] {
  const fn = (name: string) => instance.exports[name] as (...args: number[]) => number;
  const addr = fn('opa_json_dump')(fn('builtins')());
  const json = readCString(memory, addr, 1024 * 1024);
  const parsed: unknown = JSON.parse(json);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('builtins() did not return an object');
  }
  return Object.keys(parsed).sort();
}

function readCString(memory: WasmMemory, addr: number, maxBytes: number): string {
  const bytes = new Uint8Array(memory.buffer);
  const limit = Math.min(bytes.length, addr + maxBytes);
  let end = addr;
  while (end < limit && bytes[end] !== 0) end++;
  if (end === limit) throw new Error('unterminated string in policy memory');
  return Buffer.from(bytes.subarray(addr, end)).toString('utf8');
}
