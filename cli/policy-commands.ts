// `pgward policy build|test`: the commands the policy repository's CI runs, and the tests run too.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { policyBuild, policyTest } from '../policy/cli.js';

/** The pgward package root: the nearest ancestor holding package.json (works from cli/ and dist/cli/). */
export const PACKAGE_ROOT = (() => {
  let dir = import.meta.dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir)
    dir = path.dirname(dir);
  return dir;
})();

/** The pinned OPA CLI: --opa, then PGWARD_OPA, then the project's .tools/bin/opa, then PATH. */
export function resolveOpa(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag !== undefined) return flag;
  if (env.PGWARD_OPA !== undefined) return env.PGWARD_OPA;
  const candidate = path.join(PACKAGE_ROOT, '.tools', 'bin', 'opa');
  return existsSync(candidate) ? candidate : 'opa';
}

/** Content hash of a policy source tree: the revision of a build from a directory that is not a git checkout. */
export function contentRevision(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name === '.git' || name === 'node_modules') continue;
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else
        hash.update(path.relative(dir, full)).update('\0').update(readFileSync(full)).update('\0');
    }
  };
  walk(dir);
  return hash.digest('hex');
}

/** The source commit when `dir` is a clean git checkout, else its content hash. */
export function sourceRevision(dir: string): string {
  try {
    const status = execFileSync('git', ['-C', dir, 'status', '--porcelain', '--', '.'], {
      encoding: 'utf8',
    });
    const top = execFileSync('git', ['-C', dir, 'rev-parse', '--show-toplevel'], {
      encoding: 'utf8',
    }).trim();
    if (status.trim() === '' && path.resolve(top) === path.resolve(dir)) {
      return execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    }
  } catch {
    // not a git checkout: fall through
  }
  return contentRevision(dir);
}

export async function policyCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      source: { type: 'string', default: '.' },
      out: { type: 'string' },
      revision: { type: 'string' },
      opa: { type: 'string' },
      'built-at': { type: 'string' },
    },
  });
  const opaPath = resolveOpa(values.opa, env);
  const sourceDir = path.resolve(values.source);
  if (sub === 'test') {
    const result = await policyTest(sourceDir, opaPath);
    process.stdout.write(
      `schema: ${result.schema.ok ? 'ok' : 'FAILED'} (${result.schema.files} files)\n` +
        `format: ${result.format.ok ? 'ok' : `FAILED ${result.format.files.join(', ')}`}\n` +
        `check:  ${result.check.ok ? 'ok' : 'FAILED'}\n` +
        `tests:  ${result.tests.passed} passed, ${result.tests.failed} failed, ${result.tests.errored} errored\n`,
    );
    for (const p of result.schema.problems) process.stdout.write(`  ${JSON.stringify(p)}\n`);
    if (!result.check.ok) process.stdout.write(result.check.output);
    for (const f of result.tests.failures)
      process.stdout.write(`  FAIL ${f.package}.${f.name} ${f.message ?? ''}\n`);
    return result.ok ? 0 : 1;
  }
  if (sub === 'build') {
    if (values.out === undefined) {
      process.stderr.write('pgward policy build: --out <dir> is required\n');
      return 2;
    }
    const builtAt = values['built-at'];
    const result = await policyBuild({
      sourceDir,
      outDir: path.resolve(values.out),
      opaPath,
      revision: values.revision ?? sourceRevision(sourceDir),
      ...(builtAt !== undefined ? { now: () => new Date(builtAt) } : {}),
    });
    if (!result.ok) {
      process.stderr.write(`pgward policy build: ${result.message} (${result.code})\n`);
      for (const p of result.problems) process.stderr.write(`  ${JSON.stringify(p)}\n`);
      return 1;
    }
    process.stdout.write(`built bundle ${result.manifest.revision} -> ${values.out}\n`);
    return 0;
  }
  process.stderr.write(
    'usage: pgward policy build --source <dir> --out <dir> | pgward policy test --source <dir>\n',
  );
  return 2;
}
