// Runs the built CLI (`node dist/cli/main.js serve`) as a child process: writes a YAML config into a temp
// dir, learns the port from the `listening` log line on stderr, keeps every log line, and kills the
// process (and with it its cluster workers) on dispose.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { gatewayConfigDoc, gatewayEnv, TEST_USERS } from './gateway.js';
import type { PgInfo } from './postgres.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_MAIN = join(REPO_ROOT, 'dist/cli/main.js');

export type LogRecord = Record<string, unknown> & { msg?: string; level?: string };

export interface CliGatewayOptions {
  /**
   * Deep-merged over the harness config document (objects merge, arrays and scalars replace). The log
   * level must stay `info` or `debug`: the port is learned from the info-level `listening` line.
   */
  readonly config?: Record<string, unknown>;
  readonly env?: Record<string, string>;
  readonly upstreamUser?: 'scram' | 'md5';
  /** How long to wait for the `listening` line; default 20 s. */
  readonly startTimeoutMs?: number;
}

export interface CliExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface CliGateway extends AsyncDisposable {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly dir: string;
  /** Every stderr line so far, raw. */
  readonly lines: readonly string[];
  /** The stderr lines that parsed as JSON objects. */
  readonly records: readonly LogRecord[];
  readonly exited: Promise<CliExit>;
  /** postgres:// URL through the gateway for a test identity. */
  url(user?: keyof typeof TEST_USERS, database?: string, extra?: string): string;
  /** Resolves with the first record (already seen or future) matching; rejects if the process exits. */
  waitForLog(match: (r: LogRecord) => boolean, what?: string): Promise<LogRecord>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/** The environment a child starts from: this process's, minus anything that could steer the CLI. */
export function childBaseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('PGWARD_') || k === 'NODE_OPTIONS' || k.startsWith('PG')) continue;
    env[k] = v;
  }
  return env;
}

export async function writeConfig(dir: string, doc: Record<string, unknown>): Promise<string> {
  const file = join(dir, 'pgward.yaml');
  await writeFile(file, stringify(doc));
  return file;
}

function assertBuilt(): void {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run \`npm run build\` first`);
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI to completion (for commands that exit by themselves, or refuse to start). */
export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  assertBuilt();
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      [CLI_MAIN, ...args],
      {
        cwd: options.cwd ?? REPO_ROOT,
        env: { ...childBaseEnv(), ...options.env },
        timeout: options.timeoutMs ?? 30_000,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(new Error(`pgward ${args.join(' ')} did not exit: ${stderr}`, { cause: error }));
          return;
        }
        resolvePromise({ code: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

/** Starts `pgward serve` in a child process with the harness config; dispose it to stop it. */
export async function startCliGateway(
  pg: PgInfo,
  options: CliGatewayOptions = {},
): Promise<CliGateway> {
  assertBuilt();
  const dir = await mkdtemp(join(tmpdir(), 'pgward-cli-'));
  const base = gatewayConfigDoc(
    pg,
    options.upstreamUser === undefined ? {} : { upstreamUser: options.upstreamUser },
  );
  const doc = deepMerge(base, options.config ?? {});
  const file = await writeConfig(dir, doc);
  const env = {
    ...childBaseEnv(),
    ...gatewayEnv(
      pg,
      options.upstreamUser === undefined ? {} : { upstreamUser: options.upstreamUser },
    ),
    ...options.env,
  };
  const child = spawn(process.execPath, [CLI_MAIN, 'serve', '--config', file], {
    cwd: dir,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  const records: LogRecord[] = [];
  const watchers = new Set<(r: LogRecord) => void>();
  let exitInfo: CliExit | null = null;
  const exited = new Promise<CliExit>((resolveExit) =>
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolveExit(exitInfo);
    }),
  );
  let partial = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    partial += text;
    let nl = partial.indexOf('\n');
    while (nl >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      nl = partial.indexOf('\n');
      lines.push(line);
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        continue;
      }
      if (!isPlainObject(record)) continue;
      records.push(record);
      for (const w of [...watchers]) w(record);
    }
  });

  const waitForLog = (match: (r: LogRecord) => boolean, what = 'log line'): Promise<LogRecord> => {
    const seen = records.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolveLog, reject) => {
      const watcher = (r: LogRecord) => {
        if (!match(r)) return;
        watchers.delete(watcher);
        resolveLog(r);
      };
      watchers.add(watcher);
      void exited.then((e) => {
        if (!watchers.delete(watcher)) return;
        reject(
          new Error(
            `pgward exited (${e.code ?? e.signal}) before ${what}; stderr:\n${lines.join('\n')}`,
          ),
        );
      });
    });
  };

  const stop = async (): Promise<void> => {
    if (exitInfo === null) {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), 5000);
        }),
      ]);
      clearTimeout(timer);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await rm(dir, { recursive: true, force: true });
  };

  let port: number;
  try {
    let timer: NodeJS.Timeout | undefined;
    const listening = await Promise.race([
      waitForLog((r) => r.msg === 'listening', 'the listening line'),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`pgward did not listen in time; stderr:\n${lines.join('\n')}`)),
          options.startTimeoutMs ?? 20_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    port = Number(listening.port);
  } catch (error) {
    await stop();
    throw error;
  }
  if (child.pid === undefined) throw new Error('pgward child has no pid');
  const pid = child.pid;

  return {
    child,
    pid,
    port,
    dir,
    lines,
    records,
    exited,
    url(user = 'agent', database = 'app', extra = '') {
      const u = TEST_USERS[user];
      return `postgres://${u.name}:${encodeURIComponent(u.password)}@127.0.0.1:${port}/${database}${extra}`;
    },
    waitForLog,
    [Symbol.asyncDispose]: stop,
  };
}

export interface ProcMemory {
  /** Resident set size now, in bytes. */
  readonly rss: number;
  /** Peak resident set size so far, in bytes. */
  readonly hwm: number;
}

/** Reads VmRSS and VmHWM of a process from /proc/<pid>/status. */
export function procMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (m === null) throw new Error(`${name} missing from /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
