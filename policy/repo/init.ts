// `pgward policy init <dir>`: scaffolds a policy repository — the policy template (Rego, data,
// grants, approvals, canaries), the repository files (README, CODEOWNERS, CI workflows), a
// package.json pinning pgward and a .gitignore — and runs `git init -b main`.

import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PolicyRepoError } from './errors.js';
import { gitAt, gitStep } from './git.js';

export interface InitPolicyRepoOptions {
  readonly dir: string;
  /** policy/template: pgward/*.rego, data/, grants/, approvals/, canary.json, README.md. */
  readonly templateDir: string;
  /** policy/repo-template: README.md, .github/. */
  readonly repoTemplateDir: string;
  /** The pgward version CI installs (pinned exactly in package.json). */
  readonly pgwardVersion: string;
  readonly branch?: string;
}

export interface InitPolicyRepoResult {
  readonly dir: string;
  readonly files: readonly string[];
}

const GITIGNORE = 'node_modules/\nbundle/\n';

export async function initPolicyRepo(
  options: InitPolicyRepoOptions,
): Promise<InitPolicyRepoResult> {
  const dir = path.resolve(options.dir);
  const existing = await readdir(dir).catch(() => null);
  if (existing !== null && existing.length > 0)
    throw new PolicyRepoError('PGW_REPO_INIT_REFUSED', `${dir} exists and is not empty`);
  await mkdir(dir, { recursive: true });

  // The template's README describes the Rego package: it moves beside it.
  await cp(options.templateDir, dir, {
    recursive: true,
    filter: (src) => path.relative(options.templateDir, src) !== 'README.md',
  });
  await cp(path.join(options.templateDir, 'README.md'), path.join(dir, 'pgward', 'README.md'));
  await cp(options.repoTemplateDir, dir, { recursive: true });
  for (const sub of ['grants', 'approvals']) {
    await mkdir(path.join(dir, sub), { recursive: true });
    // git does not keep empty directories.
    if ((await readdir(path.join(dir, sub))).length === 0)
      await writeFile(path.join(dir, sub, '.gitkeep'), '');
  }
  await writeFile(path.join(dir, '.gitignore'), GITIGNORE);
  await writeFile(
    path.join(dir, 'package.json'),
    `${JSON.stringify(
      {
        name: 'pgward-policy',
        private: true,
        description: 'pgward policy repository: rules, grants and approvals as code',
        devDependencies: { pgward: options.pgwardVersion },
      },
      null,
      2,
    )}\n`,
  );
  await gitStep('init the repository', () =>
    gitAt(dir).raw(['init', '--initial-branch', options.branch ?? 'main']),
  );
  return { dir, files: await listFiles(dir) };
}

async function listFiles(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(path.join(root, rel), { withFileTypes: true })) {
    if (d.name === '.git') continue;
    const child = rel === '' ? d.name : `${rel}/${d.name}`;
    if (d.isDirectory()) out.push(...(await listFiles(root, child)));
    else out.push(child);
  }
  return out.sort();
}
