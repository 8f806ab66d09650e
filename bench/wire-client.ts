// A deliberately thin PostgreSQL client for the benchmark: startup, trust / cleartext / md5 /
// SCRAM-SHA-256 login, and a simple query whose result is counted and discarded without decoding rows.
// @see https://www.postgresql.org/docs/current/protocol-flow.html
import { createHash } from 'node:crypto';
import net from 'node:net';
import { startScram } from '../proxy/upstream/scram.js';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string | null;
  readonly database: string;
}

export interface QueryStats {
  /** DataRow plus CopyData messages. */
  readonly rows: number;
  /** Bytes received from sending the query to ReadyForQuery. */
  readonly bytes: number;
  readonly seconds: number;
}

type Handler = (type: number, body: Buffer) => void;

export class WireClient {
  private pending: Buffer | null = null;
  private handler: Handler = () => undefined;
  private failure: Error | null = null;
  private received = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  static async connect(ep: Endpoint, timeoutMs = 30_000): Promise<WireClient> {
    const socket = net.connect({ host: ep.host, port: ep.port, noDelay: true });
    const client = new WireClient(socket);
    try {
      await client.login(ep, timeoutMs);
    } catch (err) {
      socket.destroy();
      throw err;
    }
    return client;
  }

  /** Runs one simple query, discarding rows; resolves at ReadyForQuery (rejects on ErrorResponse). */
  query(sql: string): Promise<QueryStats> {
    return new Promise((resolve, reject) => {
      let rows = 0;
      let error: string | null = null;
      const start = performance.now();
      this.received = 0;
      this.handler = (type, body) => {
        if (type === 0x44 /* D */ || type === 0x64 /* d */) rows++;
        else if (type === 0x45 /* E */) error = errorText(body);
        else if (type === 0x5a /* Z */) {
          const seconds = (performance.now() - start) / 1000;
          if (error !== null) reject(new Error(error));
          else resolve({ rows, bytes: this.received, seconds });
        }
      };
      this.onFailure = reject;
      this.socket.write(message(0x51, cstring(sql)));
    });
  }

  close(): void {
    this.onFailure = () => undefined;
    if (!this.socket.destroyed) this.socket.end(message(0x58, Buffer.alloc(0)));
  }

  private onFailure: (err: Error) => void = () => undefined;

  private fail(err: Error): void {
    this.failure ??= err;
    this.onFailure(err);
  }

  private async login(ep: Endpoint, timeoutMs: number): Promise<void> {
    const params = ['user', ep.user, 'database', ep.database, 'application_name', 'pgward-bench'];
    const body = Buffer.concat([int32(196608), ...params.map(cstring), Buffer.from([0])]);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('login timed out')), timeoutMs);
      this.onFailure = (err) => {
        clearTimeout(timer);
        reject(err);
      };
      let scram: ReturnType<typeof startScram> | null = null;
      this.handler = (type, msg) => {
        if (type === 0x45) this.onFailure(new Error(errorText(msg)));
        else if (type === 0x5a) {
          clearTimeout(timer);
          resolve();
        } else if (type === 0x52 /* R */) {
          const code = msg.readInt32BE(0);
          const password = ep.password ?? '';
          if (code === 3) this.socket.write(message(0x70, cstring(password)));
          else if (code === 5)
            this.socket.write(message(0x70, cstring(md5(ep.user, password, msg))));
          else if (code === 10) {
            scram = startScram(password);
            const first = Buffer.from(scram.clientFirst);
            const sasl = [cstring('SCRAM-SHA-256'), int32(first.length), first];
            this.socket.write(message(0x70, Buffer.concat(sasl)));
          } else if (code === 11 && scram !== null) {
            scram.final(msg.subarray(4).toString()).then(
              (final) => this.socket.write(message(0x70, Buffer.from(final))),
              (err: unknown) => this.onFailure(err as Error),
            );
          } else if (code === 12 && scram !== null) scram.verify(msg.subarray(4).toString());
          else if (code !== 0) this.onFailure(new Error(`unsupported auth request ${code}`));
        }
      };
      if (this.failure !== null) this.onFailure(this.failure);
      this.socket.write(Buffer.concat([int32(body.length + 4), body]));
    });
  }

  private onData(chunk: Buffer): void {
    this.received += chunk.length;
    const buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    let off = 0;
    while (buf.length - off >= 5) {
      const end = off + 1 + buf.readInt32BE(off + 1);
      if (end > buf.length) break;
      this.handler(buf[off]!, buf.subarray(off + 5, end));
      off = end;
    }
    // Only the tail of one partial message is kept; copying it detaches it from the chunk.
    if (off < buf.length) this.pending = Buffer.from(buf.subarray(off));
  }
}

function message(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

const cstring = (s: string): Buffer => Buffer.from(`${s}\0`);

function md5(user: string, password: string, msg: Buffer): string {
  const inner = createHash('md5').update(password).update(user).digest('hex');
  return `md5${createHash('md5').update(inner).update(msg.subarray(4, 8)).digest('hex')}`;
}

/** The 'M' (message) field of an ErrorResponse, with its SQLSTATE. */
function errorText(body: Buffer): string {
  let text = 'error';
  let code = '';
  for (const field of body.toString().split('\0')) {
    if (field.startsWith('M')) text = field.slice(1);
    else if (field.startsWith('C')) code = field.slice(1);
  }
  return `${code} ${text}`.trim();
}
