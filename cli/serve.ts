// `pgward serve`: runs the gateway on every core. The primary forks workers, routes cancel requests
// between them and forwards SIGTERM; each worker runs one gateway on the shared listening socket.

import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { createLogger, type Logger } from '../lib/log.js';
import { createGateway } from '../proxy/gateway.js';
import type { PgwardConfigResolved, SecretRef } from '../schemas/generated/config.js';
import { wireGitPolicy } from './policy-repo-commands.js';

type WorkerMessage =
  | { type: 'listening'; port: number; host: string }
  | { type: 'failed' }
  | { type: 'cancel'; worker: number; pid: number; secret: number };

export interface ServeOptions {
  readonly config: PgwardConfigResolved;
  readonly secret: (ref: SecretRef) => Buffer;
  readonly configDir: string;
  readonly env: NodeJS.ProcessEnv;
}

export async function serve(options: ServeOptions): Promise<void> {
  const { config } = options;
  const log = createLogger({ level: config.log.level });
  const workers = config.workers === 0 ? availableParallelism() : config.workers;
  if (workers <= 1) return runWorker(options, log, 0, false);
  if (cluster.isPrimary) return runPrimary(workers, log);
  return runWorker(options, log, Number(options.env.PGWARD_WORKER_INDEX ?? '0'), true);
}

async function runWorker(
  options: ServeOptions,
  baseLog: Logger,
  index: number,
  clustered: boolean,
) {
  const log = baseLog.child({ worker: index });
  const git = wireGitPolicy(options.config, {
    secret: options.secret,
    configDir: options.configDir,
    workerIndex: index,
    log,
  });
  const gateway = createGateway({
    ...(git !== null ? { policyLoader: git.policyLoader } : {}),
    config: options.config,
    secret: options.secret,
    configDir: options.configDir,
    log,
    workerIndex: index,
    ...(clustered
      ? {
          forwardCancel: (worker: number, pid: number, secret: number) =>
            process.send?.({ type: 'cancel', worker, pid, secret } satisfies WorkerMessage),
        }
      : {}),
  });
  process.on('message', (msg: WorkerMessage) => {
    if (msg.type === 'cancel') gateway.cancelLocal(msg.pid, msg.secret);
  });
  let address: Awaited<ReturnType<typeof gateway.listen>>;
  try {
    address = await gateway.listen();
  } catch (err) {
    log.error('gateway failed to start', { err });
    process.exitCode = 1;
    if (clustered) process.send?.({ type: 'failed' });
    process.exit(1);
  }
  if (clustered) process.send?.({ type: 'listening', port: address.port, host: address.address });
  else log.info('listening', { host: address.address, port: address.port, workers: 1 });
  const stop = (signal: string) => {
    log.info('shutting down', { signal, sessions: gateway.sessionCount });
    Promise.all([gateway.shutdown(), git?.source.stop()])
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

function runPrimary(count: number, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const byIndex = new Map<number, ReturnType<typeof cluster.fork>>();
    let ready = 0;
    let stopping = false;
    const fork = (index: number) => {
      const worker = cluster.fork({ PGWARD_WORKER_INDEX: String(index) });
      byIndex.set(index, worker);
      worker.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'listening') {
          ready++;
          if (ready === count)
            log.info('listening', { host: msg.host, port: msg.port, workers: count });
        } else if (msg.type === 'cancel') {
          byIndex.get(msg.worker)?.send(msg);
        } else if (msg.type === 'failed') {
          // A worker that cannot start (bad bundle, port taken) stops the whole gateway: fail closed.
          stopping = true;
          process.exitCode = 1;
          for (const w of byIndex.values()) w.process.kill('SIGTERM');
        }
      });
      worker.on('exit', (code, signal) => {
        if (stopping) {
          byIndex.delete(index);
          if (byIndex.size === 0) resolve();
          return;
        }
        log.error('worker exited; restarting it', { index, code, signal });
        fork(index);
      });
    };
    for (let i = 0; i < count; i++) fork(i);
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down', { signal });
      for (const w of byIndex.values()) w.process.kill('SIGTERM');
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
