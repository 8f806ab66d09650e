// Long-lived child processes for the benchmark (relay, pgward, pgbouncer): spawned without a shell,
// ready when a line on stdout or stderr says so, stopped by pid with SIGTERM and then SIGKILL.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Service {
  readonly name: string;
  readonly pid: number;
  /** The last lines the child wrote, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; idempotent; resolves once the child has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnServiceOptions<T> {
  readonly name: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Returns a value once a line shows the service is ready, else undefined. */
  readonly ready: (line: string) => T | undefined;
  readonly timeoutMs?: number;
}

const TAIL_LINES = 40;

export function spawnService<T>(
  o: SpawnServiceOptions<T>,
): Promise<{ service: Service; value: T }> {
  const child = spawn(o.file, [...o.args], {
    env: o.env,
    cwd: o.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const service: Service = {
    name: o.name,
    pid: child.pid ?? -1,
    tail: () => lines.join('\n'),
    stop: (graceMs = 10_000) => stopChild(child, exited, graceMs),
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (message: string, cause?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void service
        .stop(1_000)
        .finally(() => reject(new Error(`${o.name}: ${message}\n${service.tail()}`, { cause })));
    };
    const timer = setTimeout(() => fail('not ready in time'), o.timeoutMs ?? 30_000);
    const onLine = (line: string) => {
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      if (settled) return;
      const value = o.ready(line);
      if (value === undefined) return;
      settled = true;
      clearTimeout(timer);
      resolve({ service, value });
    };
    // Both pipes are always drained so a chatty child never blocks on a full pipe.
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) createInterface({ input: stream }).on('line', onLine);
    }
    child.once('error', (err) => fail('failed to start', err));
    child.once('exit', (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
  });
}

async function stopChild(child: ChildProcess, exited: Promise<void>, graceMs: number) {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(true), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}
