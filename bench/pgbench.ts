// Runs one pgbench measurement against an endpoint and reads TPS and mean latency from its report.
import { execFile } from 'node:child_process';
import { run } from '../test/harness/exec.js';
import type { Endpoint } from './wire-client.js';

export type Workload = 'S' | 'N';
export type QueryMode = 'simple' | 'extended';

export interface PgbenchRun {
  readonly workload: Workload;
  readonly mode: QueryMode;
  readonly clients: number;
  readonly seconds: number;
}

export interface PgbenchSample {
  readonly tps: number;
  /** Mean latency by Little's law, clients / TPS: finer than the report's 3 decimals, same definition. */
  readonly latencyMs: number;
  readonly failed: number;
  /** Transactions processed (the report's count). */
  readonly transactions: number;
  /** CPU time (user + system) of the target's processes per transaction, when they were measured. */
  readonly cpuUsPerTx?: number;
}

/** Children still running, so an interrupted benchmark can end them by pid. */
export const runningPgbench = new Set<number>();

export function pgbenchEnv(ep: Endpoint): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    // Every target is measured in cleartext; the server's TLS would otherwise be preferred.
    PGSSLMODE: 'disable',
  };
  if (ep.password !== null) env.PGPASSWORD = ep.password;
  return env;
}

export const connArgs = (ep: Endpoint): string[] => [
  '-h',
  ep.host,
  '-p',
  String(ep.port),
  '-U',
  ep.user,
];

/** Creates the pgbench tables at `scale` (scale 10 = 1,000,000 accounts), generated server-side. */
export async function initPgbench(ep: Endpoint, scale: number): Promise<void> {
  const args = ['-i', '-s', String(scale), '-I', 'dtGvp', ...connArgs(ep), ep.database];
  await run('pgbench', args, { env: pgbenchEnv(ep), timeoutMs: 600_000 });
}

export function runPgbench(ep: Endpoint, r: PgbenchRun): Promise<PgbenchSample> {
  const args = [
    '-n', // no vacuum before each run: the targets would otherwise differ by vacuum time
    `-${r.workload}`,
    '-M',
    r.mode,
    '-c',
    String(r.clients),
    '-j',
    String(Math.min(r.clients, 2)),
    '-T',
    String(r.seconds),
    ...connArgs(ep),
    ep.database,
  ];
  return new Promise((resolve, reject) => {
    const child = execFile(
      'pgbench',
      args,
      { env: pgbenchEnv(ep), timeout: (r.seconds + 60) * 1000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (child.pid !== undefined) runningPgbench.delete(child.pid);
        const sample = parseReport(stdout, r.clients);
        if (error || sample === null) {
          const detail = `${stderr}\n${stdout}`.trim().split('\n').slice(-6).join('\n');
          reject(new Error(`pgbench ${args.join(' ')}: ${detail}`, { cause: error }));
          return;
        }
        resolve(sample);
      },
    );
    if (child.pid !== undefined) runningPgbench.add(child.pid);
  });
}

/** Reads `tps = N (without initial connection time)` and the failed-transaction count. */
export function parseReport(stdout: string, clients: number): PgbenchSample | null {
  const tps = Number(/^tps = ([\d.]+) \(without initial connection time\)/m.exec(stdout)?.[1]);
  const failed = /^number of failed transactions: (\d+)/m.exec(stdout)?.[1] ?? '0';
  const transactions = Number(
    /^number of transactions actually processed: (\d+)/m.exec(stdout)?.[1],
  );
  if (!(tps > 0) || !(transactions > 0)) return null;
  return { tps, latencyMs: (clients * 1000) / tps, failed: Number(failed), transactions };
}
