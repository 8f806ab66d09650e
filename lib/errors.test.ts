// Keeps docs/errors.md in step with the error catalogs in code.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientErrors } from '../proxy/wire/client-errors.js';
import { ERROR_CODES, PgwardError, toError } from './errors.js';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
const root = path.resolve(import.meta.dirname, '..');

describe('error catalog', () => {
  it('documents every PGW_ code, and documents no code that does not exist', () => {
    for (const code of ERROR_CODES) expect(doc).toContain(`\`${code}\``);
    const documented = [...doc.matchAll(/`(PGW_[A-Z_]+)`/g)].map((m) => m[1]);
    for (const code of documented) expect(ERROR_CODES).toContain(code);
  });

  it('every PGW_ code used anywhere in the source is in the catalog', () => {
    const used = new Set<string>();
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) {
          if (name !== 'node_modules' && name !== 'template' && name !== 'repo-template')
            walk(full);
        } else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) {
          for (const m of readFileSync(full, 'utf8').matchAll(/'(PGW_[A-Z_]+)'/g)) used.add(m[1]!);
        }
      }
    };
    for (const dir of ['lib', 'schemas', 'policy', 'audit', 'proxy', 'api', 'cli']) {
      try {
        walk(path.join(root, dir));
      } catch {
        // a folder that does not exist yet
      }
    }
    expect([...used].filter((c) => !(ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
  });

  it('documents every client error with its SQLSTATE', () => {
    const sample: Record<string, unknown[]> = {
      protocolViolation: ['x'],
      tooLarge: ['x'],
      unsupportedProtocol: [1, 0],
      startupParameterRefused: ['role'],
      authFailed: ['u'],
      unknownDatabase: ['d'],
      internal: ['s_1'],
    };
    for (const [name, build] of Object.entries(clientErrors)) {
      const err = (build as (...a: unknown[]) => { sqlstate: string })(...(sample[name] ?? []));
      expect(doc).toMatch(new RegExp(`\\| \`${name}\` \\| ${err.sqlstate} \\|`));
    }
  });

  it('carries a literal code and the cause', () => {
    const cause = new Error('inner');
    const err = new PgwardError('PGW_INTERNAL', 'outer', { cause });
    expect(err.code).toBe('PGW_INTERNAL');
    expect(err.cause).toBe(cause);
    expect(toError('text')).toBeInstanceOf(Error);
    expect(toError({ a: 1 }).message).toBe('{"a":1}');
  });
});
