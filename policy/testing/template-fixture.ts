// Test support for vitest files: the real template bundle built and loaded once per file.

import { afterAll, beforeAll } from 'vitest';
import { type LoadedBundle, loadBundle } from '../bundle/load.js';
import { type BuiltBundle, buildTemplateBundle } from './template-bundle.js';

/** The loaded template bundle; read its fields inside the tests (they exist after beforeAll). */
export interface TemplateBundleFixture {
  readonly loaded: LoadedBundle;
  readonly wasm: Buffer;
  readonly data: Record<string, unknown>;
}

/** Builds and loads the template bundle in the file's beforeAll and removes it in its afterAll. */
export function useTemplateBundle(): TemplateBundleFixture {
  let bundle: BuiltBundle | undefined;
  let loaded: LoadedBundle | undefined;
  beforeAll(async () => {
    bundle = await buildTemplateBundle();
    const result = await loadBundle(bundle.path);
    if (!result.ok) throw new Error(result.message);
    loaded = result;
  });
  afterAll(async () => {
    await bundle?.[Symbol.asyncDispose]();
  });
  const need = (): LoadedBundle => {
    if (loaded === undefined) throw new Error('the template bundle is not loaded yet');
    return loaded;
  };
  return {
    get loaded() {
      return need();
    },
    get wasm() {
      return need().wasm;
    },
    get data() {
      return need().data as Record<string, unknown>;
    },
  };
}
