// The policy repository commands in-process: init's scaffold, argument errors, check-grants output,
// and the GitHub host configuration from the environment.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../policy/testing/template-bundle.js';
import {
  type CommandIo,
  gitHostFrom,
  policyRepoCommand,
  requestCommand,
} from './policy-repo-commands.js';

function io(now = new Date('2026-11-25T13:00:00Z')) {
  const out = { stdout: '', stderr: '' };
  const value: CommandIo = {
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
    now: () => now,
  };
  return { io: value, out };
}

describe('pgward policy init', () => {
  it('scaffolds the template, the repository files and CI, on a fresh main branch', async () => {
    await using dir = await tempDir();
    const repo = path.join(dir.path, 'policy');
    const { io: cio, out } = io();
    expect(await policyRepoCommand(['init', repo], {}, cio)).toBe(0);
    expect(out.stdout).toMatch(/initialized policy repository/);
    for (const file of [
      'README.md',
      'pgward/README.md',
      'pgward/decision.rego',
      'data/settings.json',
      'canary.json',
      'grants/2026-11-24-svc-reporting-orders.json',
      'approvals/.gitkeep',
      '.github/CODEOWNERS',
      '.github/workflows/pull-request.yml',
      '.github/workflows/main.yml',
      '.github/workflows/prune.yml',
      '.gitignore',
    ]) {
      await expect(readFile(path.join(repo, file)), file).resolves.toBeDefined();
    }
    expect(await readFile(path.join(repo, 'README.md'), 'utf8')).toMatch(
      /^# Policy repository for pgward/,
    );
    const pkg = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8'));
    const own = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.devDependencies).toEqual({ pgward: own.version });
    expect((await simpleGit(repo).raw(['symbolic-ref', 'HEAD'])).trim()).toBe('refs/heads/main');

    // The scaffold passes the grant rules as CI runs them.
    const check = io();
    expect(await policyRepoCommand(['check-grants', '--source', repo], {}, check.io)).toBe(0);
    expect(check.out.stdout).toMatch(/check-grants: ok/);
  });

  it('refuses a non-empty directory', async () => {
    await using dir = await tempDir();
    await writeFile(path.join(dir.path, 'keep.txt'), 'x');
    const { io: cio, out } = io();
    expect(await policyRepoCommand(['init', dir.path], {}, cio)).toBe(1);
    expect(out.stderr).toMatch(/not empty \(PGW_REPO_INIT_REFUSED\)/);
  });
});

describe('argument errors', () => {
  it.each([
    [['nope'], /unknown command/],
    [['init'], /usage: pgward policy init/],
    [['check-grants', '--bogus'], /Unknown option/],
    [['prune', '--open-pr', '--push'], /--open-pr needs --push, GITHUB_TOKEN/],
  ])('policy %j exits 2', async (args, message) => {
    const { io: cio, out } = io();
    expect(await policyRepoCommand(args, {}, cio)).toBe(2);
    expect(out.stderr).toMatch(message);
  });

  it('request names every missing option', async () => {
    const { io: cio, out } = io();
    expect(await requestCommand(['--subject', 'svc-agent'], {}, cio)).toBe(2);
    expect(out.stderr).toMatch(/--repo, --database, --ttl, --reason, --table required/);
  });
});

describe('gitHostFrom', () => {
  it('needs a token and a repository', () => {
    expect(gitHostFrom({}, undefined)).toBeNull();
    expect(gitHostFrom({ GITHUB_TOKEN: 't' }, undefined)).toBeNull();
    expect(gitHostFrom({ GITHUB_REPOSITORY: 'a/b' }, undefined)).toBeNull();
    expect(gitHostFrom({ GITHUB_TOKEN: '', GITHUB_REPOSITORY: 'a/b' }, undefined)).toBeNull();
  });

  it('uses GITHUB_API_URL, the flag over the environment, and GH_TOKEN', async () => {
    const urls: string[] = [];
    const host = gitHostFrom(
      { GH_TOKEN: 't', GITHUB_REPOSITORY: 'env/repo', GITHUB_API_URL: 'http://127.0.0.1:1/api' },
      'flag/repo',
      {
        fetch: async (url) => {
          urls.push(url);
          return new Response(JSON.stringify({ number: 1, html_url: 'u' }), { status: 201 });
        },
      },
    );
    await host?.openPullRequest({ head: 'h', base: 'main', title: 't', body: 'b' });
    expect(urls).toEqual(['http://127.0.0.1:1/api/repos/flag/repo/pulls']);
  });
});
