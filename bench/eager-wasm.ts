// Imported first by bench/run.ts, for its side effect: the micro-benchmarks run the parser and policy
// modules as `pgward serve` does, optimized eagerly (see cli/eager-wasm.ts for why it comes first).

import { optimizeWasmEagerly } from '../lib/wasm-tiering.js';

optimizeWasmEagerly();
