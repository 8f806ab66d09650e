// Serves one PGlite database over the PostgreSQL wire protocol to several connections, for the demo.
// PGlite is one backend: messages of all connections run one at a time, and a connection holding a
// transaction (or in the middle of an extended-protocol batch or COPY) has the backend to itself until
// it is idle again. While such an owner waits, side statements of other connections (the gateway's
// catalog lookups and EXPLAINs) run inside its transaction under a savepoint or are spliced into its
// batch, so a session waiting for its column origins or row estimate never deadlocks.
// See docs/adr/0004-demo-database.md.

import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { serialize } from 'pg-protocol';
import {
  closeSide,
  type OutputTail,
  outputTail,
  READY_IDLE,
  spliceMessage,
  spliceOutput,
  statementText,
} from './pglite-side-lease.js';

export interface PgliteWireOptions {
  readonly host?: string;
  readonly port?: number;
  readonly maxConnections?: number;
  /** Largest frontend message accepted (checked before it is buffered). */
  readonly maxMessageBytes?: number;
  /** Statements that may run inside another connection's transaction (side-statements.ts). */
  readonly isSideStatement: (sql: string) => boolean;
}

export interface PgliteWireServer extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  /** Stops accepting, ends every connection; the database stays open (the caller owns it). */
  close(): Promise<void>;
}

interface Message {
  readonly bytes: Buffer;
  readonly seq: number;
  side?: boolean;
}

interface Conn {
  readonly socket: net.Socket;
  readonly inbox: Message[];
  pending: Buffer;
  started: boolean;
  closed: boolean;
}

/**
 * A side request running while another connection owns the backend: inside its idle transaction
 * under a savepoint, inside its aborted transaction as is, or spliced into its unfinished batch.
 */
interface Lease {
  readonly conn: Conn;
  readonly mode: 'savepoint' | 'aborted' | 'splice';
  failed: boolean;
  /** Messages of an extended-protocol request are still to come (until its Sync). */
  open: boolean;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const PROTOCOL_3 = 196608;
const SAVEPOINT = 'pgward_demo_side';
const N = Buffer.from('N');
/** Marks a connection's end in its inbox: its transaction or batch is cleaned up in turn. */
const GONE = Buffer.from([0x58, 0, 0, 0, 4]);

export async function servePglite(
  db: PGlite,
  options: PgliteWireOptions,
): Promise<PgliteWireServer> {
  const maxBytes = options.maxMessageBytes ?? 64 * 1024 * 1024;
  // The login reply every connection gets; PGlite runs its own startup once, here.
  const welcome = Buffer.from(
    await db.execProtocolRaw(serialize.startup({ user: 'postgres', database: 'postgres' })),
  );
  const conns = new Set<Conn>();
  let seq = 0;
  /** The connection the backend belongs to: 'T'/'E' idle in its transaction, null mid-batch. */
  let owner: { conn: Conn; status: string | null; copyIn: boolean } | null = null;
  let lease: Lease | null = null;
  let running = false;

  /** Runs messages in order; their output goes to `onData` and the tail is returned. */
  const exec = async (
    messages: readonly Buffer[],
    onData?: (b: Buffer) => void,
  ): Promise<OutputTail> => {
    const tail = outputTail();
    for (const bytes of messages) {
      await db.runExclusive(() =>
        db.execProtocolRawStream(bytes, {
          onRawData: (b) => {
            tail.feed(b);
            onData?.(Buffer.from(b));
          },
        }),
      );
    }
    return tail;
  };
  const collect = async (messages: readonly Buffer[]) => {
    const chunks: Buffer[] = [];
    const tail = await exec(messages, (b) => chunks.push(b));
    return { out: Buffer.concat(chunks), tail };
  };
  const internal = (sql: string) => exec([serialize.query(sql)]);

  const isSide = (m: Message): boolean => {
    if (m.side === undefined) {
      const text = statementText(m.bytes);
      m.side = text !== null && options.isSideStatement(text);
    }
    return m.side;
  };

  const pick = (): { conn: Conn; borrow: boolean } | null => {
    if (lease !== null)
      return lease.conn.inbox.length > 0 ? { conn: lease.conn, borrow: false } : null;
    if (owner !== null) {
      if (owner.conn.inbox.length > 0) return { conn: owner.conn, borrow: false };
      if (owner.copyIn) return null;
      const waiting = [...conns].filter((c) => c !== owner?.conn && c.inbox.length > 0);
      waiting.sort((a, b) => a.inbox[0]!.seq - b.inbox[0]!.seq);
      const side = waiting.find((c) => isSide(c.inbox[0]!));
      return side === undefined ? null : { conn: side, borrow: true };
    }
    let first: Conn | null = null;
    for (const c of conns)
      if (c.inbox.length > 0 && (first === null || c.inbox[0]!.seq < first.inbox[0]!.seq))
        first = c;
    return first === null ? null : { conn: first, borrow: false };
  };

  /** Ends a lease: the savepoint released (or rolled back), spliced objects closed. */
  const endLease = async (l: Lease) => {
    lease = null;
    if (l.mode === 'savepoint') {
      if (l.open) await exec([serialize.sync()]);
      await internal(
        l.failed || l.open
          ? `ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}`
          : `RELEASE SAVEPOINT ${SAVEPOINT}`,
      );
    } else if (l.mode === 'splice') {
      await exec(closeSide());
      // An error leaves the backend skipping to the next Sync: the owner's batch is lost with it.
      if (l.failed) await exec([serialize.sync()]);
    } else if (l.open) await exec([serialize.sync()]);
  };

  /** Ends a connection's hold on the backend: its batch, COPY or transaction. */
  const release = async (conn: Conn) => {
    if (lease?.conn === conn) await endLease(lease);
    if (owner?.conn === conn) {
      let status = owner.status;
      if (status === null) {
        const end = owner.copyIn ? serialize.copyFail('client went away') : serialize.sync();
        status = (await exec([end])).status() ?? (await exec([serialize.sync()])).status();
      }
      if (status !== 'I') await internal('ROLLBACK');
      owner = null;
    }
  };

  /** A connection that is gone: its messages dropped, whatever it holds released (idempotent). */
  const forget = async (conn: Conn) => {
    conns.delete(conn);
    conn.inbox.length = 0;
    await release(conn);
  };

  const send = (conn: Conn, bytes: Buffer) => {
    if (!conn.closed && bytes.length > 0) conn.socket.write(bytes);
  };

  /** One message of a side request that holds a lease. */
  const stepLease = async (l: Lease, msg: Buffer) => {
    if (l.mode === 'splice') {
      const { out, tail } = await collect(spliceMessage(msg));
      l.failed ||= tail.failed();
      const query = msg[0] === 0x51;
      send(l.conn, spliceOutput(out, query));
      if (query || msg[0] === 0x53) {
        send(l.conn, READY_IDLE);
        await endLease(l);
      } else l.open = true;
      return;
    }
    const { out, tail } = await collect([msg]);
    l.failed ||= tail.failed();
    const status = tail.status();
    // The side connection's own state is idle, whatever the owner's transaction is.
    if (status !== null) out[out.length - 1] = 0x49;
    send(l.conn, out);
    l.open = status === null;
    if (status !== null) await endLease(l);
  };

  const step = async (conn: Conn, borrow: boolean) => {
    const message = conn.inbox.shift()!;
    if (message.bytes === GONE || message.bytes[0] === 0x58) {
      await forget(conn);
      conn.socket.end();
      return;
    }
    if (borrow && owner !== null) {
      const mode = owner.status === 'T' ? 'savepoint' : owner.status === 'E' ? 'aborted' : 'splice';
      lease = { conn, mode, failed: false, open: false };
      if (mode === 'savepoint') await internal(`SAVEPOINT ${SAVEPOINT}`);
    }
    if (lease?.conn === conn) return stepLease(lease, message.bytes);
    const tail = await exec([message.bytes], (b) => send(conn, b));
    const status = tail.status();
    owner =
      status === 'I' ? null : { conn, status, copyIn: status === null && tail.lastType() === 0x47 };
  };

  const pump = async () => {
    if (running) return;
    running = true;
    try {
      for (let next = pick(); next !== null; next = pick()) {
        try {
          await step(next.conn, next.borrow);
          // It went away while its message ran: nobody else would release what it holds now.
          if (next.conn.closed) await forget(next.conn);
        } catch {
          // PGlite refused a message outright: that connection ends, the backend stays usable.
          next.conn.socket.destroy();
        }
      }
    } finally {
      running = false;
    }
  };

  const onData = (conn: Conn, chunk: Buffer) => {
    conn.pending = conn.pending.length === 0 ? chunk : Buffer.concat([conn.pending, chunk]);
    for (;;) {
      const buf = conn.pending;
      if (!conn.started) {
        if (buf.length < 8) return;
        const len = buf.readInt32BE(0);
        const code = buf.readInt32BE(4);
        if (len < 8 || len > 10_000) return void conn.socket.destroy();
        if (buf.length < len) return;
        conn.pending = buf.subarray(len);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) conn.socket.write(N);
        else if (code === PROTOCOL_3) {
          conn.started = true;
          conn.socket.write(welcome);
        } else return void conn.socket.destroy(); // CancelRequest or an unknown protocol
        continue;
      }
      if (buf.length < 5) return;
      const len = buf.readInt32BE(1);
      if (len < 4 || len + 1 > maxBytes) return void conn.socket.destroy();
      if (buf.length < len + 1) return;
      conn.inbox.push({ bytes: buf.subarray(0, len + 1), seq: seq++ });
      conn.pending = buf.subarray(len + 1);
      void pump();
    }
  };

  const onClose = (conn: Conn) => {
    if (conn.closed) return;
    conn.closed = true;
    if (owner?.conn === conn || lease?.conn === conn) {
      conn.inbox.length = 0;
      conn.inbox.push({ bytes: GONE, seq: seq++ });
      void pump();
    } else conns.delete(conn);
  };

  const server = net.createServer((socket) => {
    if (conns.size >= (options.maxConnections ?? 200)) return void socket.destroy();
    const conn: Conn = {
      socket,
      inbox: [],
      pending: Buffer.alloc(0),
      started: false,
      closed: false,
    };
    conns.add(conn);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => onData(conn, chunk));
    socket.on('error', () => onClose(conn));
    socket.on('close', () => onClose(conn));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  const close = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const c of conns) c.socket.destroy();
    await closed;
    while (running) await new Promise((r) => setImmediate(r));
  };
  return { host: address.address, port: address.port, close, [Symbol.asyncDispose]: close };
}
