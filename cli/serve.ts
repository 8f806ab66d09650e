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
import type { PullOutcome } from '../policy/repo/git-bundle-source.js';
import {
  localApprovalUses,
  remoteApprovalUses,
  type SpendAnswer,
  type SpendRequest,
  type SpendResult,
} from '../proxy/decider/approval-uses.js';
import type { PgwardConfigResolved, SecretRef } from '../schemas/generated/config.js';
import { openApprovalUses } from './approval-commands.js';
import { compose } from './compose.js';
import { primaryRoutes } from './primary-api.js';

type WorkerMessage =
  | { type: 'listening'; port: number; host: string }
  | { type: 'failed' }
  | { type: 'cancel'; worker: number; pid: number; secret: number }
  /** Audit rows written in one turn of the worker's event loop, in order. */
  | { type: 'audit'; entries: AuditEntry[] }
  /** The worker's serving bundle and sessions; `data` only when the revision changed. */
  | { type: 'state'; revision: string | null; sessions: number; data?: unknown }
  | { type: 'pulled'; id: number; outcome: PullOutcome }
  | SpendRequest;

/** A worker refuses an approved statement when the primary does not confirm its count in time. */
const APPROVAL_COUNT_TIMEOUT_MS = 5000;

/** Most audit rows one IPC message carries. */
const AUDIT_IPC_BATCH = 1000;

type PrimaryMessage =
  | { type: 'cancel'; worker: number; pid: number; secret: number }
  | { type: 'audit-accepting'; value: boolean }
  | { type: 'pull'; id: number }
  | SpendAnswer;

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
  // Audit rows cross to the primary once per event-loop turn (or per AUDIT_IPC_BATCH rows), not one
  // message each: every IPC message costs a serialisation and a write on both sides.
  let auditRows: AuditEntry[] = [];
  const sendAudit = (): Promise<void> => {
    if (auditRows.length === 0) return Promise.resolve();
    const entries = auditRows;
    auditRows = [];
    return new Promise((resolve) => {
      if (process.send === undefined) resolve();
      else
        process.send({ type: 'audit', entries } satisfies WorkerMessage, undefined, {}, () =>
          resolve(),
        );
    });
  };
  const queueAudit = (entry: AuditEntry): void => {
    if (auditRows.push(entry) === 1) setImmediate(() => void sendAudit());
    else if (auditRows.length >= AUDIT_IPC_BATCH) void sendAudit();
  };
  // max_uses counts every worker's runs of an approval: the primary keeps the one ledger.
  const approvalUses = remoteApprovalUses(send, APPROVAL_COUNT_TIMEOUT_MS);
  let composed: Awaited<ReturnType<typeof compose>>;
  try {
    composed = await compose({
      approvalUses,
      ...options,
      log,
      env: options.env,
      workerIndex: index,
      api: false,
      auditWriter: {
        write: (entry) => queueAudit(entry as AuditEntry),
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
    else if (msg.type === 'approval-spent') approvalUses.answered(msg);
    else if (msg.type === 'pull') {
      const pull: Promise<PullOutcome> =
        composed.git?.source.pullNow() ??
        Promise.resolve({
          outcome: 'unavailable',
          message: 'policy.git is not configured',
          revision: null,
        });
      void pull.then((outcome) => send({ type: 'pulled', id: msg.id, outcome }));
    }
  });
  // The primary serves health, metrics and credentials: it learns the serving bundle from here.
  let reported: string | null | undefined;
  const report = setInterval(() => {
    const revision = composed.gateway.policySource.revision;
    const sessions = composed.gateway.sessionCount;
    if (revision !== reported) {
      reported = revision;
      send({ type: 'state', revision, sessions, data: composed.gateway.policySource.data });
    } else send({ type: 'state', revision, sessions });
  }, 1000);
  report.unref();
  send({ type: 'listening', port: composed.address.port, host: composed.address.address });
  onSignals((signal) => {
    log.info('shutting down', { signal, sessions: composed.gateway.sessionCount });
    composed
      .close()
      // The rows of the sessions just closed reach the primary before the worker exits.
      .then(() => sendAudit())
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
  const byIndex = new Map<number, Worker>();
  // The one ledger of every worker's runs (a worker without an answer refuses).
  const approvalUses =
    (await openApprovalUses(options.config, { configDir: options.configDir, log })) ??
    localApprovalUses();
  const states = new Map<number, { revision: string | null; sessions: number }>();
  let policyData: unknown = null;
  const pulls = new Map<number, (outcome: PullOutcome) => void>();
  let pullIds = 0;
  const api = options.config.api.enabled
    ? await serveApi(
        createApi({
          log,
          routes: primaryRoutes(options, log, audit, {
            revision: () => states.get(0)?.revision ?? null,
            sessions: () => [...states.values()].reduce((n, s) => n + s.sessions, 0),
            data: () => policyData,
            // The webhook pulls on every worker; worker 0's outcome answers the sender.
            pull: () =>
              new Promise<PullOutcome>((resolve) => {
                const id = ++pullIds;
                pulls.set(id, resolve);
                for (const [index, w] of byIndex)
                  w.send({ type: 'pull', id: index === 0 ? id : -id });
              }),
          }),
        }),
        options.config.api.host,
        options.config.api.port,
      )
    : null;
  if (api !== null) log.info('api listening', { url: api.url });
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
            for (const entry of msg.entries) audit?.writer.write(entry);
            return;
          case 'state':
            states.set(index, { revision: msg.revision, sessions: msg.sessions });
            if (index === 0 && msg.data !== undefined) policyData = msg.data;
            return;
          case 'approval-spend': {
            const answer = (spent: SpendResult) => {
              if (worker.isConnected())
                worker.send({ type: 'approval-spent', id: msg.id, spent } satisfies PrimaryMessage);
            };
            const spent = approvalUses.spend(msg.approvals, msg.max);
            if (spent instanceof Promise) void spent.then(answer);
            else answer(spent);
            return;
          }
          case 'pulled': {
            const done = pulls.get(msg.id);
            pulls.delete(msg.id);
            done?.(msg.outcome);
            return;
          }
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
        states.delete(index);
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
  await approvalUses.close();
  await audit?.close();
}
