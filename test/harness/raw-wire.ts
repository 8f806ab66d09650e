// A raw PostgreSQL wire client for fault and limit tests: pg-protocol serializes what it sends, a small
// framer splits what comes back, DataRow/CopyData can be counted without being kept, and the socket's
// close is an awaitable event.
import net from 'node:net';
import { serialize } from 'pg-protocol';

/** One backend message; `type` is its type character ('N'/'S' for a one-byte SSL/GSS answer). */
export interface BackendFrame {
  readonly type: string;
  readonly body: Buffer;
}

/** The fields of an ErrorResponse or NoticeResponse, by their protocol field codes. */
export interface ErrorFields {
  readonly severity: string;
  readonly code: string;
  readonly message: string;
  readonly fields: ReadonlyMap<string, string>;
}

export class WireError extends Error {
  readonly code: string;
  readonly severity: string;
  constructor(fields: ErrorFields) {
    super(`${fields.severity} ${fields.code}: ${fields.message}`);
    this.name = 'WireError';
    this.code = fields.code;
    this.severity = fields.severity;
  }
}

/** Decodes an ErrorResponse/NoticeResponse body (field code byte, C string, …, 0). */
export function errorFields(body: Buffer): ErrorFields {
  const fields = new Map<string, string>();
  let pos = 0;
  while (pos < body.length && body[pos] !== 0) {
    const code = String.fromCharCode(body[pos]!);
    const end = body.indexOf(0, pos + 1);
    if (end < 0) break;
    fields.set(code, body.toString('utf8', pos + 1, end));
    pos = end + 1;
  }
  return {
    severity: fields.get('V') ?? fields.get('S') ?? '',
    code: fields.get('C') ?? '',
    message: fields.get('M') ?? '',
    fields,
  };
}

/** A typed frontend frame with an arbitrary declared length (which may lie about the body). */
export function frame(type: string, body: Buffer, declaredLength = body.length + 4): Buffer {
  const out = Buffer.alloc(5 + body.length);
  out.write(type, 0, 'latin1');
  out.writeInt32BE(declaredLength | 0, 1);
  body.copy(out, 5);
  return out;
}

/** A Query message whose length field is exactly `length` (padding inside a SQL comment). */
export function queryOfLength(length: number): Buffer {
  const head = 'select 1 as padded /*';
  const tail = '*/';
  const pad = length - 4 - 1 - head.length - tail.length;
  if (pad < 0) throw new RangeError(`a query cannot be ${length} bytes long`);
  return frame('Q', Buffer.from(`${head}${'x'.repeat(pad)}${tail}\0`, 'utf8'));
}

export interface LoginResult {
  readonly parameters: ReadonlyMap<string, string>;
  readonly pid: number;
  readonly secret: number;
}

const HEADER = 5;

export class RawConnection implements AsyncDisposable {
  readonly socket: net.Socket;
  /** Resolves when the socket has closed, whoever closed it. */
  readonly closed: Promise<void>;
  /** When false, DataRow ('D') and CopyData ('d') are counted but not queued. */
  keepRows = true;
  dataRows = 0;
  copyData = 0;
  bytesReceived = 0;
  #isClosed = false;
  #queue: BackendFrame[] = [];
  #wake: (() => void) | null = null;
  #pending: Buffer = Buffer.alloc(0);
  #skip = 0;
  #singleByte = 0;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#isClosed = true;
        this.#notify();
        resolve();
      }),
    );
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        resolve(new RawConnection(socket));
      });
    });
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Sends SSLRequest (or GSSENCRequest) and returns the one-byte answer ('S', 'N', or an 'E' frame). */
  async request(kind: 'ssl' | 'gssenc'): Promise<string> {
    const packet = Buffer.alloc(8);
    packet.writeInt32BE(8, 0);
    packet.writeInt32BE(kind === 'ssl' ? 80877103 : 80877104, 4);
    this.#singleByte++;
    this.write(packet);
    const answer = await this.next();
    if (answer === null) throw new Error(`connection closed before the ${kind} answer`);
    return answer.type;
  }

  /** The next backend message, or null once the socket is closed and nothing is left. */
  async next(): Promise<BackendFrame | null> {
    for (;;) {
      const frame = this.#queue.shift();
      if (frame !== undefined) return frame;
      if (this.#isClosed) return null;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** Messages up to and including the first of `type`; throws if the connection closes first. */
  async until(type: string): Promise<BackendFrame[]> {
    const frames: BackendFrame[] = [];
    for (;;) {
      const f = await this.next();
      if (f === null) {
        throw new Error(
          `connection closed while waiting for '${type}' (got ${frames.map((x) => describeFrame(x)).join(', ')})`,
        );
      }
      frames.push(f);
      if (f.type === type) return frames;
    }
  }

  /** Reads until an ErrorResponse and decodes it; throws if the connection closes first. */
  async expectError(): Promise<ErrorFields> {
    const frames = await this.until('E');
    return errorFields(frames[frames.length - 1]!.body);
  }

  /** Everything the server still sends until it closes the socket. */
  async drain(): Promise<BackendFrame[]> {
    const frames: BackendFrame[] = [];
    for (let f = await this.next(); f !== null; f = await this.next()) frames.push(f);
    return frames;
  }

  /** Startup + cleartext password login up to the first ReadyForQuery; an ErrorResponse rejects. */
  async login(
    user: string,
    password: string,
    database = 'app',
    extra: Record<string, string> = {},
  ): Promise<LoginResult> {
    this.write(serialize.startup({ user, database, ...extra }));
    const parameters = new Map<string, string>();
    let pid = 0;
    let secret = 0;
    for (;;) {
      const f = await this.next();
      if (f === null) throw new Error('connection closed during login');
      switch (f.type) {
        case 'E':
          throw new WireError(errorFields(f.body));
        case 'R':
          if (f.body.readInt32BE(0) === 3) this.write(serialize.password(password));
          else if (f.body.readInt32BE(0) !== 0) {
            throw new Error(`unexpected authentication request ${f.body.readInt32BE(0)}`);
          }
          break;
        case 'S': {
          const nameEnd = f.body.indexOf(0);
          parameters.set(
            f.body.toString('utf8', 0, nameEnd),
            f.body.toString('utf8', nameEnd + 1, f.body.length - 1),
          );
          break;
        }
        case 'K':
          pid = f.body.readInt32BE(0);
          secret = f.body.readInt32BE(4);
          break;
        case 'Z':
          return { parameters, pid, secret };
        default:
          break;
      }
    }
  }

  /** Simple Query up to ReadyForQuery; returns the frames (an ErrorResponse is returned, not thrown). */
  query(sql: string): Promise<BackendFrame[]> {
    this.write(serialize.query(sql));
    return this.until('Z');
  }

  /** Text values of every DataRow in `frames`. */
  static rows(frames: readonly BackendFrame[]): (string | null)[][] {
    return frames.filter((f) => f.type === 'D').map((f) => decodeDataRow(f.body));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#isClosed) {
      this.socket.destroy();
      await this.closed;
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #push(type: number, body: Buffer): void {
    this.#queue.push({ type: String.fromCharCode(type), body });
    this.#notify();
  }

  #onData(input: Buffer): void {
    this.bytesReceived += input.length;
    let chunk = input;
    if (this.#skip > 0) {
      const take = Math.min(this.#skip, chunk.length);
      this.#skip -= take;
      chunk = chunk.subarray(take);
      if (chunk.length === 0) return;
    }
    let buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    let pos = 0;
    while (this.#singleByte > 0 && pos < buf.length && buf[pos] !== 0x45) {
      this.#singleByte--;
      this.#push(buf[pos]!, Buffer.alloc(0));
      pos++;
    }
    while (buf.length - pos >= HEADER) {
      const type = buf[pos]!;
      const end = pos + 1 + buf.readInt32BE(pos + 1);
      const counted = type === 0x44 || type === 0x64;
      if (counted && !this.keepRows) {
        if (type === 0x44) this.dataRows++;
        else this.copyData++;
        if (end > buf.length) {
          this.#skip = end - buf.length;
          pos = buf.length;
          break;
        }
        pos = end;
        continue;
      }
      if (end > buf.length) break;
      if (type === 0x44) this.dataRows++;
      if (type === 0x64) this.copyData++;
      // An ErrorResponse answers a pending SSL/GSS request too (the server refused the packet).
      if (type === 0x45 && this.#singleByte > 0) this.#singleByte--;
      this.#push(type, Buffer.from(buf.subarray(pos + HEADER, end)));
      pos = end;
    }
    buf = buf.subarray(pos);
    this.#pending = buf.length > 0 ? Buffer.from(buf) : Buffer.alloc(0);
  }
}

function decodeDataRow(body: Buffer): (string | null)[] {
  const count = body.readInt16BE(0);
  const values: (string | null)[] = [];
  let pos = 2;
  for (let i = 0; i < count; i++) {
    const len = body.readInt32BE(pos);
    pos += 4;
    if (len < 0) values.push(null);
    else {
      values.push(body.toString('utf8', pos, pos + len));
      pos += len;
    }
  }
  return values;
}

/** A short description of a frame for assertion messages. */
export function describeFrame(f: BackendFrame): string {
  if (f.type === 'E' || f.type === 'N') {
    const e = errorFields(f.body);
    return `${f.type}(${e.code} ${e.message})`;
  }
  return f.type;
}
