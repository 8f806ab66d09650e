// Test support: hand-encoded WebAssembly modules for ABI fault tests (TypeScript has no WAT
// assembler here, and these modules are a few dozen bytes).
// @see https://webassembly.github.io/spec/core/binary/modules.html

const OPA_FUNCTIONS = [
  'opa_eval',
  'opa_malloc',
  'opa_heap_ptr_get',
  'opa_heap_ptr_set',
  'opa_json_parse',
  'opa_json_dump',
  'builtins',
  'entrypoints',
];

const bytes = (...parts: (number | readonly number[])[]): number[] => parts.flat();
const name = (s: string): number[] => [s.length, ...Buffer.from(s, 'latin1')];
const vec = (items: readonly (readonly number[])[]): number[] => [items.length, ...items.flat()];
const leb = (n: number): number[] => {
  const out: number[] = [];
  let v = n;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
  return out;
};
const section = (id: number, content: readonly number[]): number[] => [
  id,
  ...leb(content.length),
  ...content,
];

export interface FakeModuleOptions {
  /** opa_wasm_abi_version; 1 is OPA's. */
  readonly abiMajor?: number;
  readonly abiMinor?: number;
  /** Import env.memory (true, as OPA does) or define a private memory (false). */
  readonly importMemory?: boolean;
  /** Export the OPA ABI functions and globals. */
  readonly opaExports?: boolean;
}

/** A module whose every exported function returns i32 0. */
export function fakeModule(options: FakeModuleOptions = {}): Uint8Array {
  const { abiMajor = 1, abiMinor = 3, importMemory = true, opaExports = true } = options;
  const exportsList = opaExports
    ? [
        ...OPA_FUNCTIONS.map((f) => bytes(name(f), 0x00, 0)),
        bytes(name('opa_wasm_abi_version'), 0x03, 0),
        bytes(name('opa_wasm_abi_minor_version'), 0x03, 1),
      ]
    : [bytes(name('add'), 0x00, 0)];
  const i32Global = (value: number) => bytes(0x7f, 0x00, 0x41, value, 0x0b);
  const module = bytes(
    [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    section(1, vec([bytes(0x60, 0, 1, 0x7f)])),
    importMemory ? section(2, vec([bytes(name('env'), name('memory'), 0x02, 0x00, 1)])) : [],
    section(3, vec([[0]])),
    importMemory ? [] : section(5, vec([bytes(0x00, 1)])),
    section(6, vec([i32Global(abiMajor), i32Global(abiMinor)])),
    section(7, vec(exportsList)),
    section(10, vec([bytes(4, 0, 0x41, 0, 0x0b)])),
  );
  return Uint8Array.from(module);
}
