// psql as a driver under test: spawned directly (no shell) with PGPASSWORD and a connection URL, output
// unaligned and tuples-only. `spawnPsql` gives the live process for streaming, signals and stdin scripts.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type Endpoint, endpointUrl, libpqEnv, PSQL } from './driver-env.js';

export interface PsqlResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `-X -v ON_ERROR_STOP=1 -A -t -q` plus VERBOSITY=verbose so errors carry their SQLSTATE. */
export function psqlArgs(e: Endpoint, extra: readonly string[], onErrorStop = true): string[] {
  const args = ['-X', '-A', '-t', '-q', '-v', 'VERBOSITY=verbose'];
  if (onErrorStop) args.push('-v', 'ON_ERROR_STOP=1');
  return [...args, endpointUrl(e, false), ...extra];
}

export function spawnPsql(
  e: Endpoint,
  extra: readonly string[],
  options: { onErrorStop?: boolean } = {},
): ChildProcessWithoutNullStreams {
  return spawn(PSQL, psqlArgs(e, extra, options.onErrorStop ?? true), {
    env: libpqEnv(e),
    stdio: 'pipe',
  });
}

/** Collects a spawned psql's text output until it exits. */
export async function psqlResult(child: ChildProcessWithoutNullStreams): Promise<PsqlResult> {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

/** Runs psql to completion with optional stdin text; never rejects on a non-zero exit. */
export function runPsql(
  e: Endpoint,
  extra: readonly string[],
  options: { input?: string; onErrorStop?: boolean } = {},
): Promise<PsqlResult> {
  const child = spawnPsql(e, extra, options);
  const result = psqlResult(child);
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  return result;
}

/** Lines of psql's unaligned, tuples-only output. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}
