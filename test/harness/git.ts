// Real git for policy-repository tests: a bare remote on disk, working clones for the people of a
// scenario (requester, reviewer, CI), each with its own identity, a HOME without any global git
// config for child processes, and a runner for the built CLI and for the scaffolded workflows.

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type SimpleGit, simpleGit } from 'simple-git';
import { readWorkflowCommands, type WorkflowName } from '../../policy/repo/workflows.js';
import { CLI_MAIN, childBaseEnv } from './cli-gateway.js';

export interface GitClone {
  readonly name: string;
  readonly email: string;
  readonly dir: string;
  readonly git: SimpleGit;
  /** `git add -A` and commit; returns the new HEAD. */
  commitAll(message: string): Promise<string>;
  head(): Promise<string>;
}

export interface GitWorkspace extends AsyncDisposable {
  readonly root: string;
  /** The bare repository every clone pushes to (a path, as a git URL). */
  readonly remote: string;
  /** HOME for child processes: no ~/.gitconfig, so nothing of the machine's git identity leaks in. */
  readonly home: string;
  childEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** A fresh clone of the remote, committing as `<name>@example.test`. */
  clone(name: string): Promise<GitClone>;
  /** An existing repository (e.g. from `policy init`), given the remote as origin and an identity. */
  adopt(dir: string, name: string): Promise<GitClone>;
  /** The commit a branch of the remote points at, or null when it does not exist. */
  remoteHead(branch: string): Promise<string | null>;
}

export async function createGitWorkspace(): Promise<GitWorkspace> {
  const root = await mkdtemp(path.join(tmpdir(), 'pgward-git-'));
  const remote = path.join(root, 'remote.git');
  const home = path.join(root, 'home');
  await mkdir(home);
  await writeFile(path.join(home, '.gitconfig'), '');
  await simpleGit(root).raw(['init', '--bare', '--quiet', '--initial-branch', 'main', remote]);

  const wrap = async (dir: string, name: string): Promise<GitClone> => {
    const git = simpleGit(dir);
    const email = `${name}@example.test`;
    await git.addConfig('user.name', name).addConfig('user.email', email);
    return {
      name,
      email,
      dir,
      git,
      async commitAll(message) {
        await git.raw(['add', '-A']);
        await git.raw(['commit', '-q', '-m', message]);
        return (await git.raw(['rev-parse', 'HEAD'])).trim();
      },
      head: async () => (await git.raw(['rev-parse', 'HEAD'])).trim(),
    };
  };

  return {
    root,
    remote,
    home,
    childEnv: (extra = {}) => ({
      ...childBaseEnv(),
      HOME: home,
      XDG_CONFIG_HOME: home,
      GIT_CONFIG_NOSYSTEM: '1',
      GITHUB_TOKEN: '',
      GH_TOKEN: '',
      ...extra,
    }),
    async clone(name) {
      const dir = path.join(root, name);
      await simpleGit(root).raw(['clone', '--quiet', remote, dir]);
      return wrap(dir, name);
    },
    async adopt(dir, name) {
      const clone = await wrap(dir, name);
      await clone.git.raw(['remote', 'add', 'origin', remote]);
      return clone;
    },
    async remoteHead(branch) {
      const out = await simpleGit(root).raw([
        'ls-remote',
        '--heads',
        remote,
        `refs/heads/${branch}`,
      ]);
      return out.trim().split(/\s+/)[0] || null;
    },
    [Symbol.asyncDispose]: () => rm(root, { recursive: true, force: true }),
  };
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI (`node dist/cli/main.js …argv`) and resolves with its exit and output. */
export function runCli(
  argv: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_MAIN, ...argv],
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 120_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Like runCli, but a non-zero exit rejects with everything the command said. */
export async function pgward(
  argv: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<CliRun> {
  const run = await runCli(argv, options);
  if (run.code !== 0)
    throw new Error(`pgward ${argv.join(' ')} exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
  return run;
}

/**
 * Runs, in `dir`, exactly the `pgward` commands the scaffolded workflow holds (its other `run:`
 * lines only install pgward, which the built CLI stands for). Returns each command's run.
 */
export async function runWorkflow(
  dir: string,
  name: WorkflowName,
  env: NodeJS.ProcessEnv,
): Promise<{ readonly argv: readonly string[]; readonly run: CliRun }[]> {
  const { pgward: commands } = await readWorkflowCommands(dir, name);
  if (commands.length === 0) throw new Error(`workflow ${name} runs no pgward command`);
  const runs = [];
  for (const argv of commands) {
    // argv[0] is `pgward`, which is the built CLI.
    runs.push({ argv, run: await pgward(argv.slice(1), { cwd: dir, env }) });
  }
  return runs;
}

export interface RecordedHttpRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

export interface FakeGitHub extends AsyncDisposable {
  /** The API base URL (what GITHUB_API_URL holds). */
  readonly url: string;
  readonly requests: readonly RecordedHttpRequest[];
}

/**
 * A stand-in for the GitHub REST API on 127.0.0.1:0: records every request and answers pull request
 * creation with 201 and a sequential number. (The adapter's exact contract is tested against
 * recorded fixtures in policy/repo/git-host.test.ts.)
 */
export async function startFakeGitHub(): Promise<FakeGitHub> {
  const requests: RecordedHttpRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // recorded as text
      }
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      const m = /^\/repos\/([^/]+\/[^/]+)\/pulls$/.exec(req.url ?? '');
      if (req.method !== 'POST' || m === null) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
        return;
      }
      const number = requests.length;
      res
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ number, html_url: `https://github.test/${m[1]}/pull/${number}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
