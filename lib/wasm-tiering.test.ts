// The eager tier-up flag, checked by its effect in a child process: with it, a WebAssembly function
// that ran once is optimized in the background (V8's TurboFan); without it, it stays on baseline code.
// `pgward serve` and the bench set it before any other module is evaluated (the parser's module starts
// compiling when it is imported); other commands keep V8's default.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const file = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

// (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
const ADD_MODULE = [
  0, 97, 115, 109, 1, 0, 0, 0, 1, 7, 1, 96, 2, 127, 127, 1, 127, 3, 2, 1, 0, 7, 7, 1, 3, 97, 100,
  100, 0, 0, 10, 9, 1, 7, 0, 32, 0, 32, 1, 106, 11,
];

/**
 * In a child whose argv is `node main.js <command>`, evaluates `setup`, then runs the module's function once
 * and reports whether V8 optimized it within two seconds.
 */
function tierAfterOneCall(setup: string, command = 'serve'): { optimized: boolean; sum: number } {
  const script = `
    ${setup}
    const { instance } = await WebAssembly.instantiate(new Uint8Array(${JSON.stringify(ADD_MODULE)}));
    const add = instance.exports.add;
    const sum = add(20, 22);
    const optimized = () => eval('%IsTurboFanFunction(add)');
    for (let i = 0; i < 200 && !optimized(); i++) await new Promise((r) => setTimeout(r, 10));
    console.log(JSON.stringify({ optimized: optimized(), sum }));
  `;
  const child = spawnSync(
    process.execPath,
    [
      '--allow-natives-syntax',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
      'main.js',
      command,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as {
    optimized: boolean;
    sum: number;
  };
}

const importing = (relative: string) => `await import(${JSON.stringify(file(relative))})`;

/** The module specifier of the first import statement of a source file. */
function firstImport(relative: string): string | undefined {
  return /^import\s+(?:[^'"]*?from\s+)?['"]([^'"]+)['"]/m.exec(
    readFileSync(file(relative), 'utf8'),
  )?.[1];
}

describe('optimizeWasmEagerly', () => {
  it('has V8 optimize a WebAssembly function that ran only once', () => {
    const setup = `(${importing('./wasm-tiering.ts')}).optimizeWasmEagerly();`;
    expect(tierAfterOneCall(setup)).toEqual({ optimized: true, sum: 42 });
  });

  it('differs from the default, where such a function stays on baseline code', () => {
    expect(tierAfterOneCall('')).toEqual({ optimized: false, sum: 42 });
  });
});

describe('where the flag is set', () => {
  it('pgward serve sets it; other commands do not', () => {
    expect(tierAfterOneCall(`${importing('../cli/eager-wasm.ts')};`, 'serve').optimized).toBe(true);
    expect(tierAfterOneCall(`${importing('../cli/eager-wasm.ts')};`, 'policy').optimized).toBe(
      false,
    );
  });

  it('the bench sets it', () => {
    expect(tierAfterOneCall(`${importing('../bench/eager-wasm.ts')};`, 'x').optimized).toBe(true);
  });

  it('before anything else: the setting modules are the first imports of their entry points', () => {
    expect(firstImport('../cli/main.ts')).toBe('./eager-wasm.js');
    expect(firstImport('../bench/run.ts')).toBe('./eager-wasm.js');
  });
});
