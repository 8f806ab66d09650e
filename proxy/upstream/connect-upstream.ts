// Opens the gateway's own connection to an upstream PostgreSQL: TLS negotiation, startup, and login with
// the gateway-held secret (SCRAM-SHA-256, md5 or cleartext) up to the first ReadyForQuery.

import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import { PgwardError, toError } from '../../lib/errors.js';
import { startScram } from './scram.js';

export type UpstreamTlsMode = 'disable' | 'require' | 'verify-full';

export interface UpstreamTarget {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** SECURITY: the resolved secret; it never leaves this module except to the server. */
  readonly password: string | undefined;
  readonly tls: {
    readonly mode: UpstreamTlsMode;
    readonly ca?: Buffer;
    readonly servername?: string;
  };
}

export interface UpstreamConnection {
  readonly socket: net.Socket;
  readonly parameters: Map<string, string>;
  readonly pid: number;
  readonly secret: number;
  readonly transactionStatus: number;
}

/** Opens a socket to the target, upgraded to TLS as its mode requires. */
export function openSocket(target: UpstreamTarget, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ host: target.host, port: target.port });
    raw.setNoDelay(true);
    const timer = setTimeout(() => {
      raw.destroy();
      reject(
        new PgwardError('PGW_UPSTREAM_CONNECT_FAILED', `connect timeout after ${timeoutMs} ms`),
      );
    }, timeoutMs);
    const fail = (err: unknown) => {
      clearTimeout(timer);
      raw.destroy();
      reject(
        new PgwardError('PGW_UPSTREAM_CONNECT_FAILED', 'cannot reach upstream', {
          cause: toError(err),
        }),
      );
    };
    raw.once('error', fail);
    // A late error on the raw socket (under TLS) must never be unhandled; the session sees 'close'.
    raw.on('error', () => {});
    raw.once('connect', () => {
      if (target.tls.mode === 'disable') {
        clearTimeout(timer);
        raw.removeListener('error', fail);
        resolve(raw);
        return;
      }
      raw.write(serialize.requestSsl());
      raw.once('data', (answer: Buffer) => {
        if (answer.length !== 1 || answer[0] !== 0x53) {
          clearTimeout(timer);
          raw.destroy();
          reject(new PgwardError('PGW_UPSTREAM_TLS_FAILED', 'upstream refused TLS'));
          return;
        }
        const verify = target.tls.mode === 'verify-full';
        const secure = tls.connect({
          socket: raw,
          servername: target.tls.servername ?? target.host,
          rejectUnauthorized: verify,
          ...(target.tls.ca !== undefined ? { ca: target.tls.ca } : {}),
          ...(verify ? {} : { checkServerIdentity: () => undefined }),
        });
        secure.once('secureConnect', () => {
          clearTimeout(timer);
          raw.removeListener('error', fail);
          secure.removeAllListeners('error');
          resolve(secure);
        });
        secure.once('error', (err: Error) => {
          clearTimeout(timer);
          secure.destroy();
          reject(
            new PgwardError('PGW_UPSTREAM_TLS_FAILED', 'upstream TLS handshake failed', {
              cause: err,
            }),
          );
        });
      });
    });
  });
}

/** Connects, authenticates and waits for ReadyForQuery. Settings are forwarded as startup parameters. */
export async function connectUpstream(
  target: UpstreamTarget,
  settings: ReadonlyMap<string, string>,
  timeoutMs: number,
): Promise<UpstreamConnection> {
  const socket = await openSocket(target, timeoutMs);
  try {
    return await login(socket, target, settings, timeoutMs);
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

function login(
  socket: net.Socket,
  target: UpstreamTarget,
  settings: ReadonlyMap<string, string>,
  timeoutMs: number,
): Promise<UpstreamConnection> {
  return new Promise((resolve, reject) => {
    const parameters = new Map<string, string>();
    const parser = new Parser();
    let pid = 0;
    let secret = 0;
    let scram: ReturnType<typeof startScram> | null = null;
    let done = false;
    const finish = (err: Error | null, conn?: UpstreamConnection) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      if (err !== null) reject(err);
      else resolve(conn!);
    };
    const timer = setTimeout(
      () =>
        finish(
          new PgwardError('PGW_UPSTREAM_CONNECT_FAILED', `login timeout after ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    const onError = (err: Error) =>
      finish(
        new PgwardError('PGW_UPSTREAM_CONNECT_FAILED', 'upstream socket error', { cause: err }),
      );
    const onClose = () =>
      finish(new PgwardError('PGW_UPSTREAM_CONNECT_FAILED', 'upstream closed during login'));
    const needPassword = (): string => {
      if (target.password === undefined) {
        throw new PgwardError(
          'PGW_UPSTREAM_AUTH_FAILED',
          'upstream asked for a password and none is configured',
        );
      }
      return target.password;
    };
    const handle = async (msg: BackendMessage & Record<string, unknown>): Promise<void> => {
      switch (msg.name) {
        case 'authenticationCleartextPassword':
          socket.write(serialize.password(needPassword()));
          return;
        case 'authenticationMD5Password': {
          const inner = createHash('md5')
            .update(needPassword() + target.user)
            .digest('hex');
          const outer = createHash('md5')
            .update(inner)
            .update(msg.salt as Buffer)
            .digest('hex');
          socket.write(serialize.password(`md5${outer}`));
          return;
        }
        case 'authenticationSASL': {
          const mechanisms = msg.mechanisms as string[];
          if (!mechanisms.includes('SCRAM-SHA-256')) {
            throw new PgwardError(
              'PGW_UPSTREAM_AUTH_FAILED',
              `no supported SASL mechanism in ${mechanisms.join(',')}`,
            );
          }
          scram = startScram(needPassword());
          socket.write(
            serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', scram.clientFirst),
          );
          return;
        }
        case 'authenticationSASLContinue':
          if (scram === null)
            throw new PgwardError('PGW_UPSTREAM_PROTOCOL', 'SASL continue before start');
          socket.write(
            serialize.sendSCRAMClientFinalMessage(await scram.final(msg.data as string)),
          );
          return;
        case 'authenticationSASLFinal':
          if (scram === null)
            throw new PgwardError('PGW_UPSTREAM_PROTOCOL', 'SASL final before start');
          scram.verify(msg.data as string);
          return;
        case 'authenticationOk':
        case 'notice':
          return;
        case 'parameterStatus':
          parameters.set(msg.parameterName as string, msg.parameterValue as string);
          return;
        case 'backendKeyData':
          pid = msg.processID as number;
          secret = msg.secretKey as number;
          return;
        case 'readyForQuery':
          finish(null, {
            socket,
            parameters,
            pid,
            secret,
            transactionStatus: (msg.status as string).charCodeAt(0),
          });
          return;
        case 'error': {
          const code = (msg as unknown as { code?: string }).code ?? '';
          const isAuth = code.startsWith('28');
          throw new PgwardError(
            isAuth ? 'PGW_UPSTREAM_AUTH_FAILED' : 'PGW_UPSTREAM_CONNECT_FAILED',
            `upstream refused the login (${code})`,
            { cause: msg as unknown as Error },
          );
        }
        default:
          throw new PgwardError('PGW_UPSTREAM_PROTOCOL', `unexpected ${msg.name} during login`);
      }
    };
    let chain = Promise.resolve();
    const onData = (chunk: Buffer) => {
      parser.parse(chunk, (msg) => {
        chain = chain
          .then(() => (done ? undefined : handle(msg as BackendMessage & Record<string, unknown>)))
          .catch((err: unknown) => finish(toError(err)));
      });
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    const startup: Record<string, string> = { user: target.user, database: target.database };
    for (const [k, v] of settings) startup[k] = v;
    socket.write(serialize.startup(startup));
  });
}

/** Sends a CancelRequest for the upstream backend (pid, secret) on a fresh connection. */
export async function cancelUpstream(
  target: UpstreamTarget,
  pid: number,
  secret: number,
  timeoutMs: number,
) {
  const socket = await openSocket(target, timeoutMs);
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.once('error', () => resolve());
    socket.end(serialize.cancel(pid, secret));
    setTimeout(() => {
      socket.destroy();
      resolve();
    }, timeoutMs).unref();
  });
}
