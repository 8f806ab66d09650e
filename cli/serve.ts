// `pgward serve`: one process (workers: 1) or one primary and a worker per core. Workers run the
// gateway on the shared listening socket; the primary routes cancel requests between them and, since
// the embedded audit store allows one owner, owns the audit writer and the HTTP API.

import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { createApi } from '../api/create-api.js';
import { serveApi } from '../api/serve-api.js';
import { openAudit } from '../audit/open-audit.js';
import type { AuditEntry } from '../audit/record.js';
import { createLogger, type Logger } from '../lib/log.js';
import type { PgwardConfigResolved, SecretRef } from '../schemas/generated/config.js';
import { compose } from './compose.js';

type WorkerMessage =
  | { type: 'listening'; port: number; host: string }
  | { type: 'failed' }
  | { type: 'cancel'; worker: number; pid: number; secret: number }
  | { type: 'audit'; entry: AuditEntry };

type PrimaryMessage =
  | { type: 'cancel'; worker: number; pid: number; secret: number }
  | { type: 'audit-accepting'; value: boolean };

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
  if (workers <= 1) return runSingle(options, log);
  if (cluster.isPrimary) return runPrimary(options, workers, log);
  return runWorker(options, log, Number(options.env.PGWARD_WORKER_INDEX ?? '0'));
}

function onSignals(stop: (signal: string) => void): void {
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

async function runSingle(options: ServeOptions, log: Logger): Promise<void> {
  const composed = await compose({ ...options, log, workerIndex: 0, env: options.env });
  log.info('listening', {
    host: composed.address.address,
    port: composed.address.port,
    workers: 1,
  });
  onSignals((signal) => {
    log.info('shutting down', { signal, sessions: composed.gateway.sessionCount });
    composed
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      });
  });
}

async function runWorker(options: ServeOptions, baseLog: Logger, index: number): Promise<void> {
  const log = baseLog.child({ worker: index });
  let accepting = true;
  const send = (msg: WorkerMessage) => process.send?.(msg);
  let composed: Awaited<ReturnType<typeof compose>>;
  try {
    composed = await compose({
      ...options,
      log,
      env: options.env,
      workerIndex: index,
      api: false,
      auditWriter: {
        write: (entry) => send({ type: 'audit', entry: entry as AuditEntry }),
        accepting: () => accepting,
      },
      forwardCancel: (worker, pid, secret) => send({ type: 'cancel', worker, pid, secret }),
    });
  } catch (err) {
    log.error('gateway failed to start', { err });
    send({ type: 'failed' });
    process.exit(1);
  }
  process.on('message', (msg: PrimaryMessage) => {
    if (msg.type === 'cancel') composed.gateway.cancelLocal(msg.pid, msg.secret);
    else if (msg.type === 'audit-accepting') accepting = msg.value;
  });
  send({ type: 'listening', port: composed.address.port, host: composed.address.address });
  onSignals((signal) => {
    log.info('shutting down', { signal, sessions: composed.gateway.sessionCount });
    composed
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      });
  });
}

async function runPrimary(options: ServeOptions, count: number, log: Logger): Promise<void> {
  const audit = options.config.audit.enabled
    ? await openAudit({
        config: options.config.audit,
        configDir: options.configDir,
        secret: options.secret,
        log,
      })
    : null;
  const api = options.config.api.enabled
    ? await serveApi(
        createApi({ log, routes: [] }),
        options.config.api.host,
        options.config.api.port,
      )
    : null;
  const byIndex = new Map<number, Worker>();
  let ready = 0;
  let stopping = false;
  let accepting = audit?.writer.accepting() ?? true;
  const broadcast = (msg: PrimaryMessage) => {
    for (const w of byIndex.values()) w.send(msg);
  };
  const acceptance = setInterval(() => {
    const now = audit?.writer.accepting() ?? true;
    if (now !== accepting) {
      accepting = now;
      broadcast({ type: 'audit-accepting', value: now });
    }
  }, 250);
  acceptance.unref();
  await new Promise<void>((resolve) => {
    const fork = (index: number) => {
      const worker = cluster.fork({ PGWARD_WORKER_INDEX: String(index) });
      byIndex.set(index, worker);
      worker.on('message', (msg: WorkerMessage) => {
        switch (msg.type) {
          case 'listening':
            ready++;
            if (ready === count)
              log.info('listening', { host: msg.host, port: msg.port, workers: count });
            return;
          case 'cancel':
            byIndex.get(msg.worker)?.send(msg satisfies PrimaryMessage);
            return;
          case 'audit':
            audit?.writer.write(msg.entry);
            return;
          case 'failed':
            // A worker that cannot start (bad bundle, port taken) stops the whole gateway: fail closed.
            stopping = true;
            process.exitCode = 1;
            for (const w of byIndex.values()) w.process.kill('SIGTERM');
            return;
        }
      });
      worker.on('exit', (code, signal) => {
        byIndex.delete(index);
        if (stopping) {
          if (byIndex.size === 0) resolve();
          return;
        }
        log.error('worker exited; restarting it', { index, code, signal });
        fork(index);
      });
    };
    for (let i = 0; i < count; i++) fork(i);
    onSignals((signal) => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down', { signal });
      for (const w of byIndex.values()) w.process.kill('SIGTERM');
    });
  });
  clearInterval(acceptance);
  await api?.close();
  await audit?.close();
}
