// Login phase of one client connection: TLS negotiation, startup packet, password message, authentication,
// upstream selection and login, then hand-over to a Session with the gateway's own cancel key.

import type { Socket } from 'node:net';
import { isIPv4, isIPv6 } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import { PgwardError, toError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { CancelRegistry } from '../cancel/cancel-keys.js';
import type { JudgeContext } from '../decider/judge.js';
import type { GatewayObserver } from '../gateway.js';
import { type GatePolicy, type StatementEvent, StatementGate } from '../session/gate.js';
import { newSessionId, Session, type SessionLimits } from '../session/session.js';
import {
  cancelUpstream,
  connectUpstream,
  type UpstreamTarget,
} from '../upstream/connect-upstream.js';
import { createExplainer } from '../upstream/explainer.js';
import { createSideConnection } from '../upstream/side-connection.js';
import {
  authenticationCleartextPassword,
  authenticationOk,
  backendKeyData,
  negotiateProtocolVersion,
  parameterStatus,
  readyForQuery,
  sslAccepted,
  sslRefused,
  type TransactionStatus,
} from '../wire/backend-messages.js';
import { type ClientError, clientErrors } from '../wire/client-errors.js';
import { decodeStartupPacket } from '../wire/startup.js';
import { PacketReader } from './packet-reader.js';
import { judgeStartup, type StartupPolicy, searchPathList } from './startup-params.js';

export interface LoginDeps {
  readonly log: Logger;
  readonly tls: { readonly context: SecureContext; readonly required: boolean } | null;
  readonly allowCleartextOnLoopback: boolean;
  readonly authenticator: Authenticator;
  readonly startupPolicy: StartupPolicy;
  readonly upstreams: ReadonlyMap<string, UpstreamTarget>;
  readonly limits: SessionLimits & {
    readonly maxStartupBytes: number;
    readonly maxPasswordBytes: number;
  };
  readonly timeouts: { readonly loginMs: number; readonly upstreamConnectMs: number };
  readonly registry: CancelRegistry;
  /** Routes a CancelRequest to whichever worker owns the pid. */
  readonly routeCancel: (pid: number, secret: number) => void;
  /** Policy mode: analyzer and judge shared by all sessions. Null: a transparent relay. */
  readonly policy: GatePolicy | null;
  readonly onStatement?: (session: Session, event: StatementEvent) => void;
  readonly observer?: GatewayObserver;
  readonly onSession: (session: Session) => void;
  /** Cancels in flight; shutdown waits for them so a cut-off statement does not keep running. */
  readonly trackCancel: (cancel: Promise<void>) => void;
  readonly onSessionClose: (session: Session) => void;
}

const PASSWORD_MESSAGE = 0x70;

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (isIPv4(address)) return address.startsWith('127.');
  if (isIPv6(address)) return address === '::1' || address.startsWith('::ffff:127.');
  return false;
}

/** Runs the login of one accepted socket. Never throws: every fault ends this connection only. */
export async function login(raw: Socket, deps: LoginDeps): Promise<void> {
  let socket: Socket = raw;
  const clientAddr = raw.remoteAddress ?? 'unknown';
  const log = deps.log.child({ client_addr: clientAddr });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    refuse(socket, clientErrors.loginTimeout());
  }, deps.timeouts.loginMs);
  timer.unref();
  try {
    let reader = new PacketReader(socket);
    let secure = false;
    let params: Map<string, string> | null = null;
    while (params === null) {
      const packet = decodeStartupPacket(await reader.readStartup(deps.limits.maxStartupBytes));
      switch (packet.type) {
        case 'SSLRequest': {
          if (secure || deps.tls === null) {
            if (secure)
              return refuse(socket, clientErrors.protocolViolation('SSLRequest inside TLS'));
            socket.write(sslRefused());
            break;
          }
          // SECURITY: bytes sent before the TLS handshake would be read as if they were encrypted.
          if (reader.buffered > 0) {
            return refuse(
              socket,
              clientErrors.protocolViolation('unencrypted data after SSLRequest'),
            );
          }
          reader.detach();
          socket.write(sslAccepted());
          socket = await upgrade(socket, deps.tls.context);
          secure = true;
          reader = new PacketReader(socket);
          break;
        }
        case 'GSSENCRequest':
          socket.write(sslRefused());
          break;
        case 'CancelRequest':
          reader.detach();
          socket.destroy();
          deps.routeCancel(packet.pid, packet.secret);
          return;
        case 'Unsupported':
          return refuse(socket, clientErrors.unsupportedProtocol(packet.major, packet.minor));
        case 'Malformed':
          return refuse(socket, clientErrors.protocolViolation(packet.reason));
        case 'StartupMessage': {
          params = packet.parameters;
          const unrecognised = [...params.keys()].filter((k) => k.startsWith('_pq_.'));
          if (packet.minor > 0 || unrecognised.length > 0) {
            socket.write(negotiateProtocolVersion(0, unrecognised));
          }
          break;
        }
      }
    }
    const verdict = judgeStartup(params, deps.startupPolicy);
    if (!verdict.ok) {
      log.warn('startup refused', { refused: verdict.refused, parameter: verdict.name });
      switch (verdict.refused) {
        case 'replication':
          return refuse(socket, clientErrors.replicationRefused());
        case 'search_path':
          return refuse(socket, clientErrors.searchPathRefused());
        case 'user':
          return refuse(
            socket,
            clientErrors.protocolViolation('no user name in the startup packet'),
          );
        case 'options':
          return refuse(socket, clientErrors.startupParameterRefused(verdict.name));
      }
    }
    if (
      !secure &&
      (deps.tls?.required === true || !(deps.allowCleartextOnLoopback && isLoopback(clientAddr)))
    ) {
      return refuse(socket, clientErrors.tlsRequired());
    }
    socket.write(authenticationCleartextPassword());
    const message = await reader.readTyped(deps.limits.maxPasswordBytes);
    if (message[0] !== PASSWORD_MESSAGE) {
      return refuse(socket, clientErrors.protocolViolation('expected a password message'));
    }
    const terminator = message.indexOf(0, 5);
    if (terminator !== message.length - 1) {
      return refuse(socket, clientErrors.protocolViolation('malformed password message'));
    }
    const password = message.toString('utf8', 5, terminator);
    const auth = await deps.authenticator.authenticate({
      userHint: verdict.user,
      password,
      clientAddr,
    });
    if (!auth.ok) {
      log.warn('authentication failed', { user: verdict.user, reason: auth.reason });
      return refuse(socket, clientErrors.authFailed(verdict.user));
    }
    const bound = auth.identity.database;
    if (bound !== undefined && bound !== verdict.database) {
      log.warn('authentication failed', {
        user: verdict.user,
        reason: `credential: issued for database ${JSON.stringify(bound)}, not ${JSON.stringify(verdict.database)}`,
      });
      return refuse(socket, clientErrors.credentialForOtherDatabase());
    }
    const target = deps.upstreams.get(verdict.database);
    if (target === undefined) return refuse(socket, clientErrors.unknownDatabase(verdict.database));
    let upstream: Awaited<ReturnType<typeof connectUpstream>>;
    try {
      upstream = await connectUpstream(target, verdict.settings, deps.timeouts.upstreamConnectMs);
    } catch (err) {
      log.error('upstream login failed', { upstream: target.name, err });
      return refuse(socket, clientErrors.unavailable());
    }
    if (timedOut || socket.destroyed) {
      upstream.socket.destroy();
      return;
    }
    clearTimeout(timer);
    const id = newSessionId();
    const cancelKey = deps.registry.issue(() => {
      // A statement held for approval has not reached the upstream: the cancel ends its wait.
      if (gate?.cancelHold() === true) return;
      deps.trackCancel(
        cancelUpstream(
          target,
          upstream.pid,
          upstream.secret,
          deps.timeouts.upstreamConnectMs,
        ).catch((err: unknown) => log.warn('cancel forwarding failed', { session: id, err })),
      );
    });
    const info = {
      id,
      identity: auth.identity,
      database: verdict.database,
      applicationName: verdict.applicationName,
      clientAddr,
    };
    let session: Session | null = null;
    /** The judge context, rebuilt only when search_path or the transaction state changed. */
    let judgeContext: JudgeContext | null = null;
    const gate: StatementGate | null =
      deps.policy === null
        ? null
        : new StatementGate(
            deps.policy,
            log,
            searchPathList(
              upstream.parameters.get('search_path') ??
                verdict.settings.get('search_path') ??
                '"$user", public',
            ),
            (): JudgeContext => {
              const searchPath = gate!.searchPath;
              const inTransaction = session !== null && !session.idleTransaction;
              if (
                judgeContext?.searchPath !== searchPath ||
                judgeContext.inTransaction !== inTransaction
              ) {
                judgeContext = {
                  identity: info.identity,
                  sessionId: id,
                  database: info.database,
                  applicationName: info.applicationName,
                  clientAddr,
                  searchPath,
                  inTransaction,
                };
              }
              return judgeContext;
            },
            (event) => {
              if (session !== null) deps.onStatement?.(session, event);
            },
            createExplainer(
              createSideConnection(
                () => connectUpstream(target, verdict.settings, deps.timeouts.upstreamConnectMs),
                deps.timeouts.upstreamConnectMs,
              ),
            ),
            deps.policy.filterFor(target.name),
          );
    if (gate !== null && deps.observer?.statementDone !== undefined) {
      const observer = deps.observer;
      gate.onDone = (done) => observer.statementDone?.(info, done);
    }
    if (gate !== null) gate.onNotice = (bytes) => session?.notice(bytes);
    session = new Session(socket, upstream, info, {
      log,
      limits: deps.limits,
      cancelKey,
      cancelUpstream: () => deps.registry.cancelLocal(cancelKey.pid, cancelKey.secret),
      onClose: deps.onSessionClose,
      ...(gate === null ? {} : { gate }),
    });
    const greeting: Buffer[] = [authenticationOk()];
    for (const [name, value] of upstream.parameters) {
      greeting.push(
        parameterStatus(name, name === 'session_authorization' ? auth.identity.sub : value),
      );
    }
    greeting.push(backendKeyData(cancelKey.pid, cancelKey.secret));
    greeting.push(readyForQuery(upstream.transactionStatus as TransactionStatus));
    socket.write(Buffer.concat(greeting));
    deps.onSession(session);
    deps.observer?.sessionOpened?.(info, { tls: secure });
    log.info('session opened', {
      session: id,
      sub: auth.identity.sub,
      via: auth.identity.via,
      database: verdict.database,
      application_name: verdict.applicationName,
      tls: secure,
    });
    session.start(reader.detach());
  } catch (err) {
    clearTimeout(timer);
    const error = toError(err);
    if (error instanceof PgwardError && error.code === 'PGW_WIRE_MESSAGE_TOO_LARGE') {
      refuse(socket, clientErrors.tooLarge(error.message));
    } else if (error instanceof PgwardError && error.code === 'PGW_WIRE_PROTOCOL_VIOLATION') {
      refuse(socket, clientErrors.protocolViolation(error.message));
    } else {
      log.error('login failed', { err: error });
      refuse(socket, clientErrors.internal('login'));
    }
  } finally {
    clearTimeout(timer);
  }
}

function refuse(socket: Socket, error: ClientError): void {
  if (socket.destroyed) return;
  socket.end(error.bytes);
  setTimeout(() => socket.destroy(), 1000).unref();
}

function upgrade(socket: Socket, context: SecureContext): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const secure = new TLSSocket(socket, { isServer: true, secureContext: context });
    const onError = (err: Error) => {
      secure.destroy();
      reject(
        new PgwardError('PGW_WIRE_PROTOCOL_VIOLATION', 'TLS handshake failed', { cause: err }),
      );
    };
    secure.once('error', onError);
    secure.once('secure', () => {
      secure.removeListener('error', onError);
      resolve(secure);
    });
  });
}
