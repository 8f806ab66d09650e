// The documentation is exercised: every config example validates against the schema, every pgward
// command and flag it shows exists, and the example config loads for real.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configShapeProblems, loadConfigFile } from '../../cli/config.js';
import { CLI_MAIN, REPO_ROOT } from '../harness/cli-gateway.js';

const DOCS = [
  path.join(REPO_ROOT, 'README.md'),
  ...readdirSync(path.join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join(REPO_ROOT, 'docs', f)),
];

function blocks(file: string, lang: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map(
    (m) => m[1]!,
  );
}

const usage = execFileSync(process.execPath, [CLI_MAIN, 'help'], { encoding: 'utf8' });

describe('documentation', () => {
  it('every config example validates against the config schema', () => {
    let seen = 0;
    for (const file of DOCS) {
      for (const yaml of blocks(file, 'yaml')) {
        if (!/^upstreams:/m.test(yaml)) continue;
        seen++;
        expect({ file: path.basename(file), problems: configShapeProblems(yaml) }).toEqual({
          file: path.basename(file),
          problems: [],
        });
      }
    }
    expect(seen).toBeGreaterThanOrEqual(3);
  });

  it('every pgward command and flag the docs show is one the CLI knows', () => {
    let seen = 0;
    for (const file of DOCS) {
      for (const sh of blocks(file, 'sh')) {
        const joined = sh.replace(/\\\n\s*/g, ' ');
        for (const m of joined.matchAll(
          /(?:^|\s|\()(?:npx )?pgward ((?:[a-z-]+ ?){1,2})([^\n|)#]*)/g,
        )) {
          seen++;
          const words = m[1]!.trim().split(' ');
          const command = words[0]!;
          expect(usage, `${path.basename(file)}: pgward ${command}`).toMatch(
            new RegExp(`\\b${command}\\b`),
          );
          for (const flag of m[2]!.matchAll(/(--[a-z-]+)/g)) {
            expect(usage, `${path.basename(file)}: pgward ${m[1]} ${flag[1]}`).toContain(flag[1]!);
          }
        }
      }
    }
    expect(seen).toBeGreaterThanOrEqual(10);
  });

  it('the example config loads with its secrets', () => {
    const loaded = loadConfigFile(path.join(REPO_ROOT, 'examples/pgward.yaml'), {});
    expect(loaded.ok ? [] : loaded.problems).toEqual([]);
  });
});
