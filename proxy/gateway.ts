// The gateway: one wire listener whose connections go through login into sessions. One instance per
// process; the CLI runs one per worker and routes cancel requests between them.

import { randomBytes } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Logger } from '../lib/log.js';
import type { PgwardConfigResolved, SecretRef } from '../schemas/generated/config.js';
import type { Authenticator } from './auth/authenticator.js';
import { createAuthenticatorFromConfig } from './auth/chain.js';
import { createCancelRegistry, workerOfPid } from './cancel/cancel-keys.js';
import type { ApprovalDesk } from './decider/approval-desk.js';
import { createJudge } from './decider/judge.js';
import {
  createPolicySource,
  createStatementAnalyzer,
  loadEvaluator,
  type SwappablePolicySource,
} from './decider/policy-runtime.js';
import { createColumnOrigins } from './filter/column-origins.js';
import { createMasker } from './filter/mask-methods.js';
import { type LoginDeps, login } from './listener/login.js';
import { normaliseSearchPath } from './listener/startup-params.js';
import type { GatePolicy, ResultFilterDeps, StatementEvent } from './session/gate.js';
import type { StatementDone } from './session/requests.js';
import type { Session, SessionInfo } from './session/session.js';
import type { UpstreamTarget } from './upstream/connect-upstream.js';
import { connectUpstream } from './upstream/connect-upstream.js';
import { createSideConnection } from './upstream/side-connection.js';
import { clientErrors } from './wire/client-errors.js';

export interface GatewayDeps {
  readonly config: PgwardConfigResolved;
  /** Resolves a secret reference; the composition root owns env and file access. */
  readonly secret: (ref: SecretRef) => Buffer;
  readonly log: Logger;
  readonly authenticator?: Authenticator;
  readonly workerIndex?: number;
  /** Delivers a CancelRequest whose pid belongs to another worker; absent in a single process. */
  readonly forwardCancel?: (worker: number, pid: number, secret: number) => void;
  /** Directory that relative paths in the config (bundle_dir) are resolved against. */
  readonly configDir?: string;
  /** Epoch milliseconds; injected so grant expiry is testable to the second. */
  readonly now?: () => number;
  /**
   * Fills the policy source when `policy.git` is configured (the git bundle source's start): called by
   * listen() instead of loading policy.bundle_dir. It may leave the source empty (everything denied).
   */
  readonly policyLoader?: (source: SwappablePolicySource) => Promise<void>;
  /** Every judged request as it is decided (before it runs). */
  readonly onStatement?: (session: Session, event: StatementEvent) => void;
  /** Session and statement records, for audit. */
  readonly observer?: GatewayObserver;
  /** False while statements must be refused (audit fail-closed mode with a full spool). */
  readonly admit?: () => boolean;
  /** Human approval (`approvals` in the config): request filing, approval uses, wait mode. */
  readonly approvals?: ApprovalDesk;
}

export interface GatewayObserver {
  sessionOpened?(session: SessionInfo, details: { readonly tls: boolean }): void;
  sessionClosed?(session: SessionInfo, details: SessionCloseDetails): void;
  statementDone?(session: SessionInfo, done: StatementDone): void;
}

export interface SessionCloseDetails {
  readonly reason: string;
  readonly sqlstate: string | null;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

export interface Gateway extends AsyncDisposable {
  listen(): Promise<AddressInfo>;
  /** Listens on a server handle shared by the cluster primary (node:cluster does this implicitly). */
  readonly server: net.Server;
  /** The serving policy (null revision while none, or when policy is disabled). */
  readonly policySource: SwappablePolicySource;
  readonly sessionCount: number;
  readonly connectionCount: number;
  /** Runs a cancel for a pid owned by this process. */
  cancelLocal(pid: number, secret: number): boolean;
  /** Stops accepting, lets sessions finish until the deadline, then ends them with a FATAL. */
  shutdown(deadlineMs?: number): Promise<void>;
}

/** A secret used as text: a file's single trailing newline is not part of it. */
export function secretText(bytes: Buffer): string {
  return bytes.toString('utf8').replace(/\r?\n$/, '');
}

export function createGateway(deps: GatewayDeps): Gateway {
  const { config, log } = deps;
  const workerIndex = deps.workerIndex ?? 0;
  const registry = createCancelRegistry(workerIndex);
  const sessions = new Set<Session>();
  const sockets = new Set<net.Socket>();
  const upstreams = new Map<string, UpstreamTarget>(
    config.upstreams.map((u) => [
      u.name,
      {
        name: u.name,
        host: u.host,
        port: u.port,
        database: u.database,
        user: u.user,
        password: u.password === undefined ? undefined : secretText(deps.secret(u.password)),
        tls: {
          mode: u.tls.mode,
          ...(u.tls.ca !== undefined ? { ca: deps.secret(u.tls.ca) } : {}),
          ...(u.tls.servername !== undefined ? { servername: u.tls.servername } : {}),
        },
      },
    ]),
  );
  const tls =
    config.tls === undefined
      ? null
      : {
          context: createSecureContext({
            cert: deps.secret(config.tls.cert),
            key: deps.secret(config.tls.key),
          }),
          required: config.tls.required,
        };
  const authenticator =
    deps.authenticator ?? createAuthenticatorFromConfig(config, deps.secret, log, deps.now);
  const cancelLocal = (pid: number, secret: number): boolean => registry.cancelLocal(pid, secret);
  let policy: GatePolicy | null = null;
  let onSwap: () => void = () => {};
  const filters = new Map<string, ResultFilterDeps>();
  const pendingCancels = new Set<Promise<void>>();
  const policySource = createPolicySource(null, () => {
    onSwap();
    // Statements held for approval are judged again under the new bundle.
    deps.approvals?.bundleSwapped();
  });
  const initPolicy = async (): Promise<void> => {
    const settings = config.policy;
    if (settings.disabled) {
      log.warn('policy disabled: the gateway is a transparent relay and judges nothing');
      return;
    }
    const loadBundle = async (): Promise<void> => {
      if (settings.git !== undefined) {
        if (deps.policyLoader === undefined)
          throw new Error('policy.git is configured but no git policy loader is wired');
        return deps.policyLoader(policySource);
      }
      if (settings.bundle_dir === undefined) throw new Error('policy.bundle_dir is required');
      const dir = path.resolve(deps.configDir ?? process.cwd(), settings.bundle_dir);
      const { evaluator, data } = await loadEvaluator(dir, settings.max_memory_pages, log);
      policySource.swap(evaluator, data);
      log.info('policy bundle loaded', { revision: evaluator.revision });
    };
    const [, analyzer] = await Promise.all([
      loadBundle(),
      createStatementAnalyzer(settings.analyzer_cache_size),
    ]);
    onSwap = () => {
      for (const f of filters.values()) f.origins.invalidate();
    };
    const hashKey =
      config.masking.hash_key === undefined
        ? randomBytes(32)
        : deps.secret(config.masking.hash_key);
    if (config.masking.hash_key === undefined) {
      log.warn(
        'masking.hash_key is not set: hash-masked values differ between gateway processes and restarts',
      );
    }
    const masker = createMasker(hashKey);
    policy = {
      ...(deps.admit !== undefined ? { admit: deps.admit } : {}),
      ...(deps.approvals !== undefined ? { approvals: deps.approvals } : {}),
      filterFor: (name) => {
        let filter = filters.get(name);
        if (filter === undefined) {
          const target = upstreams.get(name)!;
          const timeout = config.timeouts.upstream_connect_ms;
          const side = createSideConnection(
            () => connectUpstream(target, new Map(), timeout),
            timeout,
          );
          filter = { origins: createColumnOrigins(side), masker };
          filters.set(name, filter);
        }
        return filter;
      },
      analyzer,
      judge: createJudge({
        source: policySource,
        now: deps.now ?? Date.now,
        cacheSize: settings.decision_cache_size,
      }),
      maxNamed: settings.max_named_objects,
    };
  };
  const loginDeps: LoginDeps = {
    get policy() {
      return policy;
    },
    ...(deps.onStatement !== undefined ? { onStatement: deps.onStatement } : {}),
    log,
    tls,
    allowCleartextOnLoopback: config.auth.allow_cleartext_on_loopback,
    authenticator,
    startupPolicy: {
      allowed: new Set(config.startup.allowed_parameters.map((p) => p.toLowerCase())),
      allowedSearchPaths: new Set(config.startup.allowed_search_path.map(normaliseSearchPath)),
    },
    upstreams,
    limits: {
      maxStartupBytes: config.limits.max_startup_bytes,
      maxPasswordBytes: config.limits.max_password_bytes,
      maxMessageBytes: config.limits.max_message_bytes,
      maxBackendMessageBytes: config.limits.max_backend_message_bytes,
      idleMs: config.timeouts.idle_ms,
    },
    timeouts: {
      loginMs: config.timeouts.login_ms,
      upstreamConnectMs: config.timeouts.upstream_connect_ms,
    },
    registry,
    routeCancel: (pid, secret) => {
      const owner = workerOfPid(pid);
      if (owner === workerIndex || deps.forwardCancel === undefined) cancelLocal(pid, secret);
      else deps.forwardCancel(owner, pid, secret);
    },
    onSession: (s) => sessions.add(s),
    trackCancel: (cancel) => {
      pendingCancels.add(cancel);
      void cancel.finally(() => pendingCancels.delete(cancel));
    },
    ...(deps.observer !== undefined ? { observer: deps.observer } : {}),
    onSessionClose: (s) => {
      const closed = s.closedWith;
      deps.observer?.sessionClosed?.(s.info, {
        reason: closed?.reason ?? 'unknown',
        sqlstate: closed?.sqlstate ?? null,
        bytesIn: s.stats.bytesIn,
        bytesOut: s.stats.bytesOut,
      });
      sessions.delete(s);
      if (draining !== null && sessions.size === 0) draining();
    },
  };
  let draining: (() => void) | null = null;
  let closing = false;
  const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (socket) => {
    // SECURITY: a socket error must end that connection only, never the process.
    socket.on('error', (err) => log.debug('client socket error', { err }));
    if (closing) {
      turnAway(socket, clientErrors.adminShutdown().bytes);
      return;
    }
    if (sockets.size >= config.limits.max_connections) {
      turnAway(socket, clientErrors.tooManyConnections().bytes);
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    login(socket, loginDeps).catch((err: unknown) => {
      log.error('unexpected login fault', { err });
      socket.destroy();
    });
  });
  server.on('error', (err) => log.error('listener error', { err }));

  const shutdown = async (deadlineMs = config.timeouts.shutdown_ms): Promise<void> => {
    if (closing) return;
    closing = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const allGone = new Promise<void>((resolve) => {
      draining = resolve;
      if (sessions.size === 0) resolve();
    });
    for (const s of [...sessions]) s.drain();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allGone, new Promise<void>((r) => (timer = setTimeout(r, deadlineMs)))]);
    clearTimeout(timer);
    for (const s of [...sessions]) s.close(clientErrors.adminShutdown(), 'shutdown deadline');
    // Statements cut off at the deadline are cancelled upstream before the process may exit.
    if (pendingCancels.size > 0) {
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...pendingCancels]),
        new Promise<void>((r) => (wait = setTimeout(r, config.timeouts.upstream_connect_ms))),
      ]);
      clearTimeout(wait);
    }
    for (const socket of sockets) socket.destroy();
    for (const f of filters.values()) f.origins.close();
    await closed;
  };

  return {
    server,
    get sessionCount() {
      return sessions.size;
    },
    get connectionCount() {
      return sockets.size;
    },
    policySource,
    listen: async () => {
      await initPolicy();
      return new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.listen.port, config.listen.host, () => {
          server.removeListener('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    cancelLocal,
    shutdown,
    [Symbol.asyncDispose]: () => shutdown(0),
  };
}

/**
 * Refuses a connection that never reaches login. The socket was paused on connect, so it would never read
 * the peer's FIN and never close (leaking the fd and keeping server.close() from completing): read and
 * discard until EOF, and destroy it after a grace period in any case.
 */
function turnAway(socket: net.Socket, bytes: Buffer): void {
  socket.resume();
  socket.end(bytes);
  setTimeout(() => socket.destroy(), 1000).unref();
}
