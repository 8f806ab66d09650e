// Drift check: generated types and the configuration reference match the schemas they come from.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const run = (script: string) => () =>
  expect(() =>
    execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' }),
  ).not.toThrow();

describe('generated from schemas', () => {
  it('schemas/generated is up to date', run('scripts/gen-types.mjs'));
  it('docs/configuration.md is up to date', run('scripts/gen-config-doc.mjs'));
});
