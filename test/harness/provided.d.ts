// Types what test/harness/global-setup.ts provides, so `inject('pg')` is typed in every test.
import type { PgInfo } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pg: PgInfo;
  }
}
