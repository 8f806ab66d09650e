// One client session after login: relays both directions through the framers with backpressure, tracks
// transaction state and in-flight requests, and ends with a clear FATAL on shutdown, idle or expiry.

import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { assertNever } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { Identity } from '../auth/authenticator.js';
import type { CancelKey } from '../cancel/cancel-keys.js';
import type { CopyPlan } from '../filter/copy-masker.js';
import type { FieldPlan } from '../filter/row-masker.js';
import type { UpstreamConnection } from '../upstream/connect-upstream.js';
import { parameterStatus, TransactionStatus } from '../wire/backend-messages.js';
import { type ClientError, clientErrors } from '../wire/client-errors.js';
import { Disposition, dispositionTable, Framer, withDispositions } from '../wire/framer.js';
import { Outbound } from '../wire/outbound.js';
import type { GateAction, StatementGate } from './gate.js';

export type SessionId = string & { readonly __brand: 'SessionId' };

export function newSessionId(): SessionId {
  return `s_${randomBytes(9).toString('base64url')}` as SessionId;
}

const F = Disposition.forward;
const I = Disposition.inspect;
const O = Disposition.observe;

/**
 * Frontend messages after login. 'p' (password) is only valid during login and is rejected here. Query
 * and Sync are observed: each starts a request the session counts.
 */
const CLIENT_TABLE = dispositionTable({
  Q: O,
  P: F,
  B: F,
  E: F,
  D: F,
  C: F,
  H: F,
  S: O,
  F: I,
  d: F,
  c: F,
  f: F,
  X: I,
});

/** Backend messages after login. Authentication and BackendKeyData are not valid any more. */
const SERVER_TABLE = dispositionTable({
  '1': F,
  '2': F,
  '3': F,
  A: I,
  C: F,
  c: F,
  d: F,
  D: F,
  E: F,
  G: F,
  H: F,
  I: F,
  n: F,
  N: F,
  s: F,
  t: F,
  T: F,
  V: F,
  W: F,
  v: F,
  S: I,
  Z: O,
});

/**
 * In policy mode every message that starts, names or ends a request is inspected by the gate. They are
 * observed: a message the gate forwards stays in the run of bytes around it; any other action takes it
 * over.
 */
const GATED_CLIENT_TABLE = withDispositions(CLIENT_TABLE, { B: O, C: O, D: O, E: O, P: O });

/**
 * In policy mode the answers that end, fail or describe a statement and confirm a Parse, Bind or Close
 * are inspected too: denials are rewritten, results recorded, named objects tracked. Only errors can be
 * rewritten; the others are observed (read, and passed on as they came).
 */
const GATED_SERVER_TABLE = withDispositions(SERVER_TABLE, {
  '1': O,
  '2': O,
  '3': O,
  C: O,
  E: I,
  I: O,
  T: O,
  n: O,
  s: O,
});

/**
 * While a masked request is in flight, every DataRow is rewritten (masked into the outbound slab) and the
 * COPY messages are inspected too.
 */
const MASKING_SERVER_TABLE = withDispositions(GATED_SERVER_TABLE, {
  D: Disposition.rewrite,
  H: I,
  d: I,
});
const ERROR_RESPONSE = 0x45;
const NOTIFICATION_RESPONSE = 0x41;
const COMMAND_COMPLETE = 0x43;
const EMPTY_QUERY = 0x49;
const PORTAL_SUSPENDED = 0x73;
const ROW_DESCRIPTION = 0x54;
const NO_DATA = 0x6e;
const DATA_ROW = 0x44;
const COPY_OUT_RESPONSE = 0x48;
const COPY_DATA = 0x64;
const PARSE_COMPLETE = 0x31;
const BIND_COMPLETE = 0x32;
const CLOSE_COMPLETE = 0x33;

const Q = 0x51;
const SYNC = 0x53;
const FUNCTION_CALL = 0x46;
const TERMINATE = 0x58;
const PARAMETER_STATUS = 0x53;
const READY_FOR_QUERY = 0x5a;
const HEADER = 5;

export interface SessionLimits {
  readonly maxMessageBytes: number;
  readonly maxBackendMessageBytes: number;
  readonly idleMs: number;
}

export interface SessionInfo {
  readonly id: SessionId;
  readonly identity: Identity;
  readonly database: string;
  readonly applicationName: string;
  readonly clientAddr: string;
}

export interface SessionDeps {
  readonly log: Logger;
  readonly limits: SessionLimits;
  readonly cancelKey: CancelKey;
  /** Sends a CancelRequest to the upstream backend of this session. */
  readonly cancelUpstream: () => void;
  readonly onClose: (session: Session) => void;
  /** Policy mode: every request passes the gate. Absent: a transparent relay. */
  readonly gate?: StatementGate;
}

export type SessionPhase = 'relaying' | 'draining' | 'closed';

export class Session {
  readonly info: SessionInfo;
  readonly #client: Socket;
  readonly #upstream: Socket;
  readonly #deps: SessionDeps;
  readonly #fromClient: Framer;
  readonly #fromServer: Framer;
  readonly #gate: StatementGate | null;
  readonly #upstreamPid: number;
  #phase: SessionPhase = 'relaying';
  #pending = 0;
  #txStatus: number = TransactionStatus.idle;
  #idleTimer: NodeJS.Timeout | null = null;
  #expiryTimer: NodeJS.Timeout | null = null;
  #bytesIn = 0;
  #bytesOut = 0;
  #closedWith: { readonly reason: string; readonly sqlstate: string | null } | null = null;
  #outToServer: Buffer[] = [];
  /** Bytes for the client: relayed slices and rewritten rows, in order. */
  readonly #toClient = new Outbound();
  /** Asynchronous messages for the client, sent at the next backend message boundary. */
  readonly #notices: Buffer[] = [];
  /** Client messages held by the gate (a row estimate, an approval wait): the session is not idle. */
  #deferred = 0;
  /** The gate's action for the observed client message it did not forward, delivered to message next. */
  #takenOver: GateAction | null = null;

  constructor(client: Socket, upstream: UpstreamConnection, info: SessionInfo, deps: SessionDeps) {
    this.info = info;
    this.#client = client;
    this.#upstream = upstream.socket;
    this.#deps = deps;
    this.#txStatus = upstream.transactionStatus;
    const { limits } = deps;
    this.#gate = deps.gate ?? null;
    this.#upstreamPid = upstream.pid;
    this.#fromClient = new Framer(
      this.#gate === null ? CLIENT_TABLE : GATED_CLIENT_TABLE,
      { maxInspectLength: limits.maxMessageBytes, maxForwardLength: limits.maxMessageBytes },
      {
        forward: (bytes) => this.#outToServer.push(bytes),
        observe: (type, src, start, end) => this.#observeClient(type, src, start, end),
        message: (type, body, raw) => this.#onClientMessage(type, body, raw),
        fault: (err) =>
          this.close(
            err.code === 'PGW_WIRE_MESSAGE_TOO_LARGE'
              ? clientErrors.tooLarge(err.message)
              : clientErrors.protocolViolation(err.message),
            err.message,
          ),
      },
    );
    this.#fromServer = new Framer(
      this.#gate === null ? SERVER_TABLE : GATED_SERVER_TABLE,
      { maxInspectLength: limits.maxBackendMessageBytes, maxForwardLength: 0x7fffffff },
      {
        forward: (bytes) => this.#toClient.push(bytes),
        observe: (type, src, start, end) => this.#observeServer(type, src, start, end),
        message: (type, body, raw) => this.#onServerMessage(type, body, raw),
        // Only DataRows are rewritten (MASKING_SERVER_TABLE, used with a gate only).
        rewrite: (_type, src, start, end) => this.#onServerRows(this.#gate!, src, start, end),
        fault: (err) => {
          deps.log.error('upstream protocol fault', { session: info.id, err });
          this.close(clientErrors.internal(info.id), 'upstream protocol fault');
        },
      },
    );
  }

  get phase(): SessionPhase {
    return this.#phase;
  }

  /** Idle means: no request in flight and no open transaction. */
  get idle(): boolean {
    return this.#pending === 0 && this.#deferred === 0 && this.#txStatus === TransactionStatus.idle;
  }

  /** True outside a transaction block (ReadyForQuery status 'I'). */
  get idleTransaction(): boolean {
    return this.#txStatus === TransactionStatus.idle;
  }

  /** Why the session ended, once it has. */
  get closedWith(): { readonly reason: string; readonly sqlstate: string | null } | null {
    return this.#closedWith;
  }

  get stats() {
    return { bytesIn: this.#bytesIn, bytesOut: this.#bytesOut, pending: this.#pending };
  }

  /** Starts relaying; `early` holds client bytes that arrived before login completed. */
  start(early: Buffer | null): void {
    const client = this.#client;
    const upstream = this.#upstream;
    client.on('data', (chunk: Buffer) => this.#fromClientChunk(chunk));
    upstream.on('data', (chunk: Buffer) => this.#fromServerChunk(chunk));
    client.on('drain', () => {
      if (!this.#fromServer.paused) upstream.resume();
    });
    // A held decision keeps the client paused even when the upstream drains.
    upstream.on('drain', () => {
      if (!this.#fromClient.paused) client.resume();
    });
    client.on('error', (err) => this.#gone('client socket error', err));
    client.on('close', () => this.#gone('client closed'));
    upstream.on('error', (err) => this.#gone('upstream socket error', err));
    upstream.on('close', () => {
      if (this.#phase !== 'closed') this.close(clientErrors.upstreamLost(), 'upstream closed');
    });
    if (this.#deps.limits.idleMs > 0) {
      this.#idleTimer = setTimeout(() => this.#checkIdle(), this.#deps.limits.idleMs);
    }
    const expiresAt = this.info.identity.expiresAt;
    if (expiresAt !== null) {
      const delay = Math.max(0, expiresAt - Date.now());
      this.#expiryTimer = setTimeout(
        () => this.close(clientErrors.credentialExpired(), 'credential expired'),
        Math.min(delay, 0x7fffffff),
      );
    }
    client.resume();
    upstream.resume();
    if (early !== null && early.length > 0) this.#fromClientChunk(early);
  }

  /** Sends an asynchronous message (a NoticeResponse) to the client between two backend messages. */
  notice(bytes: Buffer): void {
    if (this.#phase === 'closed') return;
    this.#notices.push(bytes);
    this.#flushNotices();
  }

  #flushNotices(): void {
    // Never inside a backend message the framer is still forwarding piece by piece.
    if (this.#notices.length === 0 || !this.#fromServer.atBoundary) return;
    for (const notice of this.#notices.splice(0)) this.#toClient.push(notice);
    this.#flushToClient();
  }

  /** Graceful shutdown: idle sessions end now, busy ones at their next idle point. */
  drain(): void {
    if (this.#phase !== 'relaying') return;
    this.#phase = 'draining';
    if (this.idle) this.close(clientErrors.adminShutdown(), 'shutdown');
  }

  /** Ends the session: the error (if any) goes to the client, Terminate to the upstream. */
  close(error: ClientError | null, reason: string): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    this.#closedWith = { reason, sqlstate: error?.sqlstate ?? null };
    this.#fromClient.stop();
    this.#fromServer.stop();
    this.#gate?.close();
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    if (this.#expiryTimer !== null) clearTimeout(this.#expiryTimer);
    const client = this.#client;
    const upstream = this.#upstream;
    if (this.#pending > 0) this.#deps.cancelUpstream();
    if (!upstream.destroyed) upstream.end(TERMINATE_MESSAGE);
    if (!client.destroyed) {
      if (error !== null) client.end(error.bytes);
      else client.end();
    }
    // Sockets that do not finish promptly are destroyed; nothing outlives the session.
    setTimeout(() => {
      client.destroy();
      upstream.destroy();
    }, 1000).unref();
    this.#deps.cancelKey.release();
    this.#deps.log.info('session closed', {
      session: this.info.id,
      reason,
      sqlstate: error?.sqlstate ?? null,
      bytes_in: this.#bytesIn,
      bytes_out: this.#bytesOut,
    });
    this.#deps.onClose(this);
  }

  #gone(reason: string, err?: Error): void {
    if (this.#phase === 'closed') return;
    if (err !== undefined) this.#deps.log.debug(reason, { session: this.info.id, err });
    this.close(null, reason);
  }

  #fromClientChunk(chunk: Buffer): void {
    this.#bytesIn += chunk.length;
    this.#idleTimer?.refresh();
    this.#fromClient.push(chunk);
    this.#syncServerTable();
    this.#flushToServer();
  }

  #fromServerChunk(chunk: Buffer): void {
    this.#fromServer.push(chunk);
    this.#flushToClient();
    this.#flushNotices();
    if (this.#phase === 'draining' && this.idle)
      this.close(clientErrors.adminShutdown(), 'shutdown');
  }

  /** Writes `parts` in order; `sent` (if given) is called once the socket is done with all of them. */
  #write(socket: Socket, parts: Buffer[], sent?: () => void): boolean {
    if (parts.length === 1) {
      // The common case, one slice: popped (emptying by setting length costs far more).
      const only = parts.pop()!;
      return socket.destroyed || socket.write(only, sent);
    }
    const merged = mergeAdjacent(parts);
    parts.length = 0;
    if (socket.destroyed) return true;
    if (merged.length === 1) return socket.write(merged[0]!, sent);
    socket.cork();
    let ok = true;
    for (let i = 0; i < merged.length; i++)
      ok = socket.write(merged[i]!, i === merged.length - 1 ? sent : undefined);
    socket.uncork();
    return ok;
  }

  /**
   * An observed frontend message, by offsets: true when it goes upstream as it came (counted if it starts
   * a request). In policy mode the gate decides; an action other than Forward takes the message over and
   * is applied when the framer delivers it to #onClientMessage, right after this returns.
   */
  #observeClient(type: number, src: Buffer, start: number, end: number): boolean {
    const gate = this.#gate;
    if (gate !== null) {
      const action = gate.onClientMessageAt(type, src, start + HEADER, end);
      if (action.type !== 'Forward') {
        this.#takenOver = action;
        return false;
      }
    }
    this.#countRequest(type);
    return true;
  }

  #onClientMessage(type: number, body: Buffer, raw: Buffer): void {
    if (type === TERMINATE) {
      this.close(null, 'client terminated');
      return;
    }
    const taken = this.#takenOver;
    if (taken !== null) {
      this.#takenOver = null;
      this.#applyGateAction(type, raw, taken);
      return;
    }
    if (this.#gate === null) {
      this.#toServer(type, raw);
      return;
    }
    this.#applyGateAction(type, raw, this.#gate.onClientMessage(type, body));
  }

  #applyGateAction(type: number, raw: Buffer, action: GateAction): void {
    switch (action.type) {
      case 'Forward':
        this.#toServer(type, raw);
        return;
      case 'Replace':
        this.#toServer(type, action.bytes);
        return;
      case 'Drop':
        return;
      case 'Fatal':
        this.close(action.error, action.error.message);
        return;
      case 'Defer': {
        // Hold every later message (in order) and stop reading until the decision settles.
        this.#fromClient.pause();
        this.#client.pause();
        const kept = Buffer.from(raw);
        this.#deferred++;
        action.action
          .finally(() => this.#deferred--)
          .then((settled) => {
            if (this.#phase === 'closed') return;
            this.#applyGateAction(type, kept, settled);
            this.#syncServerTable();
            this.#flushToServer();
            if (this.#isClosed()) return;
            this.#fromClient.resume();
            this.#flushToServer();
            if (!this.#fromClient.paused) this.#client.resume();
          })
          .catch((err: unknown) => {
            this.#deps.log.error('deferred decision failed', { session: this.info.id, err });
            this.close(clientErrors.internal(this.info.id), 'deferred decision failed');
          });
        return;
      }
      default:
        assertNever(action, 'gate action');
    }
  }

  #isClosed(): boolean {
    return this.#phase === 'closed';
  }

  #toServer(type: number, bytes: Buffer): void {
    this.#countRequest(type);
    this.#outToServer.push(bytes);
  }

  /** A Query, Sync or FunctionCall on its way upstream: one more ReadyForQuery to come. */
  #countRequest(type: number): void {
    if (type === Q || type === SYNC || type === FUNCTION_CALL) this.#pending++;
  }

  #flushToServer(): void {
    if (this.#outToServer.length > 0 && !this.#write(this.#upstream, this.#outToServer)) {
      this.#client.pause();
    }
  }

  /**
   * An observed backend message, by offsets: read, and always passed on to the client as it came (in the
   * forwarded run around it).
   */
  #observeServer(type: number, src: Buffer, start: number, end: number): boolean {
    if (type === READY_FOR_QUERY) {
      // A ReadyForQuery without its status byte leaves no valid status (never a byte of the next message).
      this.#onReady(end > start + HEADER ? src[start + HEADER]! : 0);
      return true;
    }
    const gate = this.#gate;
    if (gate === null) return true;
    switch (type) {
      case ROW_DESCRIPTION:
        gate.onServerRowDescription(src, start + HEADER, end);
        return true;
      case NO_DATA:
        gate.onServerNoData();
        return true;
      case PARSE_COMPLETE:
      case BIND_COMPLETE:
      case CLOSE_COMPLETE:
        gate.onServerAck(type);
        return true;
      case COMMAND_COMPLETE:
      case EMPTY_QUERY:
      case PORTAL_SUSPENDED:
        gate.onServerCompletion(type, src, start + HEADER, end);
        this.#copyPlan = null;
        return true;
      default:
        return true;
    }
  }

  #onReady(status: number): void {
    if (this.#pending > 0) this.#pending--;
    this.#txStatus = status;
    this.#gate?.onReady(status);
    this.#syncServerTable();
    // Between results the outbound slab is let go; what it holds is queued before this message.
    this.#toClient.release();
  }

  #onServerMessage(type: number, body: Buffer, raw: Buffer): void {
    if (type === NOTIFICATION_RESPONSE) {
      // The client knows this session by the gateway's pid: notifications it raised itself must carry it.
      if (body.length >= 4 && body.readInt32BE(0) === this.#upstreamPid) {
        const copy = Buffer.from(raw);
        copy.writeInt32BE(this.#deps.cancelKey.pid, 5);
        this.#toClient.push(copy);
        return;
      }
      this.#toClient.push(raw);
      return;
    }
    // SECURITY: a DataRow handed over alone while masking is masked like those in a run.
    if (this.#gate !== null && type === DATA_ROW) {
      this.#onServerRows(this.#gate, raw, 0, raw.length);
      return;
    }
    if (this.#gate !== null && (type === COPY_OUT_RESPONSE || type === COPY_DATA)) {
      this.#onCopyMessage(this.#gate, type, body, raw);
      return;
    }
    if (type === ERROR_RESPONSE && this.#gate !== null) {
      this.#toClient.push(this.#gate.onServerError(body) ?? raw);
      return;
    }
    if (type === PARAMETER_STATUS) {
      const nameEnd = body.indexOf(0);
      // SECURITY: the upstream role name must not reach the client.
      if (nameEnd > 0 && body.toString('latin1', 0, nameEnd) === 'session_authorization') {
        this.#toClient.push(parameterStatus('session_authorization', this.info.identity.sub));
        return;
      }
    }
    // The observed kinds, should one come here: read as the observer reads them, then passed on.
    this.#observeServer(type, raw, 0, raw.length);
    this.#toClient.push(raw);
  }

  /**
   * DataRows while masking, back to back in `src[start, end)` (one result set: nothing else comes between
   * them); the masking table hands them over as offsets into the chunk.
   */
  #onServerRows(gate: StatementGate, src: Buffer, start: number, end: number): void {
    const plan = gate.rowPlan();
    if (plan instanceof Promise) {
      // Column origins are being loaded: hold these rows and everything after them, in order.
      const kept = Buffer.from(src.subarray(start, end));
      this.#hold(plan, () => this.#onServerRows(gate, kept, 0, kept.length));
      return;
    }
    if (plan === null) this.#toClient.push(src.subarray(start, end));
    else this.#maskRows(gate, src, start, end, plan);
  }

  #maskRows(gate: StatementGate, src: Buffer, start: number, end: number, plan: FieldPlan): void {
    // SECURITY: a row the masker cannot read is never passed on; the session ends.
    if (!gate.maskRows(src, start, end, plan, this.#toClient)) {
      this.#deps.log.error('malformed DataRow from upstream', { session: this.info.id });
      this.close(clientErrors.internal(this.info.id), 'upstream protocol fault');
    }
  }

  #copyPlan: CopyPlan | null = null;

  #onCopyMessage(gate: StatementGate, type: number, body: Buffer, raw: Buffer): void {
    if (type === COPY_OUT_RESPONSE) {
      const plan = gate.copyPlan(body);
      if (plan instanceof Promise) {
        this.#hold(plan, () => this.#onCopyMessage(gate, type, body, Buffer.from(raw)));
        return;
      }
      this.#copyPlan = plan;
      this.#toClient.push(raw);
      return;
    }
    const masked = this.#copyPlan === null ? null : gate.maskCopy(body, this.#copyPlan);
    this.#toClient.push(masked ?? raw);
  }

  /** Holds the upstream stream (this message and all after it, in order) until `wait` settles. */
  #hold(wait: Promise<void>, retry: () => void): void {
    this.#fromServer.pause();
    this.#upstream.pause();
    wait
      .then(() => {
        if (this.#isClosed()) return;
        retry();
        this.#flushToClient();
        this.#fromServer.resume();
        this.#flushToClient();
        if (!this.#fromServer.paused) this.#upstream.resume();
      })
      .catch((err: unknown) => {
        this.#deps.log.error('column origins unavailable; closing the session', {
          session: this.info.id,
          err,
        });
        this.close(clientErrors.unavailable(), 'column origins unavailable');
      });
  }

  /** Inspects DataRows only while a masked request is in flight. */
  #syncServerTable(): void {
    if (this.#gate !== null) {
      this.#fromServer.setTable(this.#gate.masking ? MASKING_SERVER_TABLE : GATED_SERVER_TABLE);
    }
  }

  #flushToClient(): void {
    if (!this.#toClient.empty) {
      const { parts, sent } = this.#toClient.take();
      for (const part of parts) this.#bytesOut += part.length;
      // Writes complete in order: the last one's callback means every part has left.
      if (!this.#write(this.#client, parts, sent)) this.#upstream.pause();
    }
  }

  #checkIdle(): void {
    if (this.#phase === 'closed') return;
    if (this.idle) {
      this.close(clientErrors.idleTimeout(), 'idle timeout');
      return;
    }
    this.#idleTimer?.refresh();
  }
}

const TERMINATE_MESSAGE = Buffer.from([0x58, 0, 0, 0, 4]);

/**
 * Merges slices that are adjacent views of the same memory, so pass-through bytes leave as they came: one
 * view per run of adjacent slices.
 */
export function mergeAdjacent(parts: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < parts.length) {
    const first = parts[i]!;
    let end = first.byteOffset + first.length;
    let j = i + 1;
    for (; j < parts.length; j++) {
      const next = parts[j]!;
      if (next.buffer !== first.buffer || next.byteOffset !== end) break;
      end += next.length;
    }
    out.push(
      j === i + 1 ? first : Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset),
    );
    i = j;
  }
  return out;
}
