// A bare wire-protocol client built on pg-protocol's serializer and parser: it writes exactly the bytes a
// test asks for (e.g. 1,000 Parse/Bind/Execute and one Sync in a single write) and hands back every
// backend message, so pipelining is tested without a driver's own batching in the way.
// @see https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-PIPELINING
import { createHash } from 'node:crypto';
import net from 'node:net';
import { serialize } from 'pg-protocol';
import type {
  BackendKeyDataMessage,
  BackendMessage,
  CommandCompleteMessage,
  DatabaseError,
  DataRowMessage,
  ReadyForQueryMessage,
} from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import type { Endpoint } from './driver-env.js';

export interface RawClient extends AsyncDisposable {
  /** BackendKeyData as the server (or the gateway) sent it. */
  readonly processId: number;
  readonly secretKey: number;
  /** One socket write. */
  write(bytes: Buffer): void;
  /** Every message up to and including the next ReadyForQuery. */
  untilReady(): Promise<BackendMessage[]>;
  /** Simple Query round trip. */
  query(sql: string): Promise<BackendMessage[]>;
  end(): Promise<void>;
}

/** What one statement of an extended-protocol batch produced. */
export type StatementOutcome =
  | {
      readonly ok: true;
      readonly rows: readonly (readonly (string | null)[])[];
      readonly tag: string;
    }
  | { readonly ok: false; readonly code: string };

export interface BatchResult {
  readonly outcomes: readonly StatementOutcome[];
  /** Transaction status of the final ReadyForQuery: 'I', 'T' or 'E'. */
  readonly status: string;
  readonly readyCount: number;
}

/** Connects and logs in with a cleartext, md5 or no password (trust); SCRAM is not needed here. */
export function connectRaw(e: Endpoint): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: e.host, port: e.port });
    socket.setNoDelay(true);
    const parser = new Parser();
    const inbox: BackendMessage[] = [];
    let wake: (() => void) | null = null;
    let failure: Error | null = null;
    let key: BackendKeyDataMessage | null = null;
    let loggedIn = false;

    const fail = (err: Error) => {
      failure ??= err;
      if (!loggedIn) reject(err);
      wake?.();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
    socket.on('data', (chunk: Buffer) => {
      parser.parse(chunk, (msg) => {
        if (!loggedIn) return login(msg);
        inbox.push(msg);
      });
      wake?.();
    });
    socket.once('connect', () =>
      socket.write(serialize.startup({ user: e.user, database: e.database })),
    );

    const login = (msg: BackendMessage) => {
      switch (msg.name) {
        case 'authenticationCleartextPassword':
          socket.write(serialize.password(e.password));
          return;
        case 'authenticationMD5Password': {
          const salt = (msg as unknown as { salt: Buffer }).salt;
          const inner = createHash('md5')
            .update(e.password + e.user)
            .digest('hex');
          const outer = createHash('md5').update(inner).update(salt).digest('hex');
          socket.write(serialize.password(`md5${outer}`));
          return;
        }
        case 'backendKeyData':
          key = msg as BackendKeyDataMessage;
          return;
        case 'error':
          fail(msg as DatabaseError);
          socket.destroy();
          return;
        case 'readyForQuery':
          loggedIn = true;
          resolve(client);
          return;
        default:
          return;
      }
    };

    const untilReady = async (): Promise<BackendMessage[]> => {
      const out: BackendMessage[] = [];
      for (;;) {
        const msg = inbox.shift();
        if (msg !== undefined) {
          out.push(msg);
          if (msg.name === 'readyForQuery') return out;
          continue;
        }
        if (failure !== null) throw failure;
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    };

    const client: RawClient = {
      get processId() {
        return key?.processID ?? 0;
      },
      get secretKey() {
        return key?.secretKey ?? 0;
      },
      write: (bytes) => void socket.write(bytes),
      untilReady,
      query(sql) {
        socket.write(serialize.query(sql));
        return untilReady();
      },
      end: () =>
        new Promise<void>((done) => {
          if (socket.destroyed) return done();
          socket.once('close', () => done());
          socket.end(serialize.end());
        }),
      [Symbol.asyncDispose]: () => client.end(),
    };
  });
}

/** Parse/Bind/Execute for every statement (unnamed statement and portal), then one Sync. */
export function pipelinedBatch(
  statements: readonly { readonly text: string; readonly values: readonly (string | null)[] }[],
): Buffer {
  const parts: Buffer[] = [];
  for (const s of statements) {
    parts.push(serialize.parse({ text: s.text }));
    parts.push(serialize.bind({ values: [...s.values] }));
    parts.push(serialize.execute());
  }
  parts.push(serialize.sync());
  return Buffer.concat(parts);
}

/** Folds the messages of one batch (up to its ReadyForQuery) into per-statement outcomes. */
export function summarizeBatch(messages: readonly BackendMessage[]): BatchResult {
  const outcomes: StatementOutcome[] = [];
  let rows: (string | null)[][] = [];
  let status = '?';
  let readyCount = 0;
  for (const msg of messages) {
    switch (msg.name) {
      case 'dataRow':
        rows.push((msg as DataRowMessage).fields.map((f) => (f === null ? null : String(f))));
        break;
      case 'commandComplete':
        outcomes.push({ ok: true, rows, tag: (msg as CommandCompleteMessage).text });
        rows = [];
        break;
      case 'error':
        outcomes.push({ ok: false, code: (msg as DatabaseError).code ?? '' });
        rows = [];
        break;
      case 'readyForQuery':
        status = (msg as ReadyForQueryMessage).status;
        readyCount++;
        break;
      default:
        break;
    }
  }
  return { outcomes, status, readyCount };
}

/** Sends a CancelRequest on a fresh connection and resolves when the server has closed it. */
export function sendCancelRequest(
  host: string,
  port: number,
  processId: number,
  secretKey: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(serialize.cancel(processId, secretKey)));
    socket.on('data', () => undefined);
    socket.once('close', () => resolve());
  });
}
