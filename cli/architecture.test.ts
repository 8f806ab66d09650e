// Keeps the import direction of CONVENTIONS: lib ← schemas ← policy, audit ← proxy; api never imports
// proxy; only cli wires everything together.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const ALLOWED: Record<string, readonly string[]> = {
  lib: ['lib'],
  schemas: ['lib', 'schemas'],
  policy: ['lib', 'schemas', 'policy'],
  audit: ['lib', 'schemas', 'audit'],
  proxy: ['lib', 'schemas', 'policy', 'audit', 'proxy'],
  api: ['lib', 'schemas', 'policy', 'audit', 'api'],
  cli: ['lib', 'schemas', 'policy', 'audit', 'proxy', 'api', 'cli'],
};

function sources(dir: string): string[] {
  let out: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) {
      if (name !== 'node_modules' && name !== 'template') out = out.concat(sources(full));
    } else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) {
      out.push(full);
    }
  }
  return out;
}

describe('architecture', () => {
  it('every relative import follows the allowed direction', () => {
    const violations: string[] = [];
    for (const [folder, allowed] of Object.entries(ALLOWED)) {
      for (const file of sources(path.join(ROOT, folder))) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
          const target = path.relative(ROOT, path.resolve(path.dirname(file), m[1]!));
          const top = target.split(path.sep)[0]!;
          if (!allowed.includes(top))
            violations.push(`${path.relative(ROOT, file)} imports ${target}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
