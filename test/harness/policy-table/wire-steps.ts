// A wire client that sends extended-protocol messages one at a time (each followed by Flush) and reads
// the answer to each before sending the next, so the gateway sees Parse, Bind and Execute as separate
// requests, as a driver that prepares first and executes later does.
// @see https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
import net from 'node:net';
import { serialize } from 'pg-protocol';
import type { BackendMessage, DatabaseError } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import type { Endpoint } from '../drivers/driver-env.js';

export interface StepClient extends AsyncDisposable {
  /** Writes bytes as they are (callers add Flush or Sync). */
  write(bytes: Buffer): void;
  /** The next backend message, skipping NoticeResponse and ParameterStatus. */
  next(): Promise<BackendMessage>;
  /** Messages up to and including the next ReadyForQuery. */
  untilReady(): Promise<BackendMessage[]>;
  /** One simple Query round trip. */
  query(sql: string): Promise<BackendMessage[]>;
}

const SKIPPED = new Set(['notice', 'parameterStatus', 'notification']);

/** Logs in with the cleartext password the gateway asks for on loopback. */
export function connectSteps(e: Endpoint): Promise<StepClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: e.host, port: e.port });
    socket.setNoDelay(true);
    const parser = new Parser();
    const inbox: BackendMessage[] = [];
    let wake: (() => void) | null = null;
    let failure: Error | null = null;
    let ready = false;

    const fail = (err: Error) => {
      failure ??= err;
      if (!ready) reject(err);
      wake?.();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
    socket.once('connect', () =>
      socket.write(serialize.startup({ user: e.user, database: e.database })),
    );
    socket.on('data', (chunk: Buffer) => {
      parser.parse(chunk, (msg) => {
        if (ready) {
          if (!SKIPPED.has(msg.name)) inbox.push(msg);
          return;
        }
        if (msg.name === 'authenticationCleartextPassword')
          socket.write(serialize.password(e.password));
        else if (msg.name === 'error') fail(msg as DatabaseError);
        else if (msg.name === 'readyForQuery') {
          ready = true;
          resolve(client);
        }
      });
      wake?.();
    });

    const next = async (): Promise<BackendMessage> => {
      for (;;) {
        const msg = inbox.shift();
        if (msg !== undefined) return msg;
        if (failure !== null) throw failure;
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = null;
      }
    };
    const untilReady = async (): Promise<BackendMessage[]> => {
      const out: BackendMessage[] = [];
      for (;;) {
        const msg = await next();
        out.push(msg);
        if (msg.name === 'readyForQuery') return out;
      }
    };
    const client: StepClient = {
      write: (bytes) => void socket.write(bytes),
      next,
      untilReady,
      query(sql) {
        socket.write(serialize.query(sql));
        return untilReady();
      },
      [Symbol.asyncDispose]: () =>
        new Promise<void>((done) => {
          if (socket.destroyed) return done();
          socket.once('close', () => done());
          socket.end(serialize.end());
        }),
    };
  });
}

/** Message bytes followed by Flush: the server answers without waiting for Sync. */
export const flushed = (message: Buffer): Buffer => Buffer.concat([message, serialize.flush()]);

/** The SQLSTATE and message of an ErrorResponse, or null for any other message. */
export function errorOf(
  msg: BackendMessage,
): { code: string; message: string; hint: string | null } | null {
  if (msg.name !== 'error') return null;
  const e = msg as DatabaseError;
  return { code: e.code ?? '', message: e.message, hint: e.hint ?? null };
}
