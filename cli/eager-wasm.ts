// Imported first by cli/main.ts, for its side effect: `pgward serve` has V8 optimize WebAssembly eagerly
// (lib/wasm-tiering.ts). It must run before any other module is evaluated, because the parser's module
// (libpg-query) starts compiling as soon as it is imported. Other commands, the demo included, keep V8's
// default.

import { optimizeWasmEagerly } from '../lib/wasm-tiering.js';

if (process.argv[2] === 'serve') optimizeWasmEagerly();
