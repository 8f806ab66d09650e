// Fluent builder for protocol test bytes: `msg('Q').cstring('select 1').build()`, startup packets, and
// helpers to concatenate and split buffers (every byte offset, fixed-size chunks).
// @see https://www.postgresql.org/docs/current/protocol-message-formats.html

export class BytesBuilder {
  readonly #parts: Buffer[] = [];
  readonly #type: number | null;
  #declaredLength: number | null = null;

  /** `type` is the message's type byte, or null for an untyped (startup-phase) packet. */
  constructor(type: number | null) {
    this.#type = type;
  }

  byte(value: number): this {
    this.#parts.push(Buffer.from([value & 0xff]));
    return this;
  }

  int16(value: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(value, 0);
    this.#parts.push(b);
    return this;
  }

  int32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value, 0);
    this.#parts.push(b);
    return this;
  }

  /** A NUL-terminated UTF-8 string. */
  cstring(value: string): this {
    this.#parts.push(Buffer.from(value, 'utf8'), Buffer.from([0]));
    return this;
  }

  /** UTF-8 text without a terminator. */
  string(value: string): this {
    this.#parts.push(Buffer.from(value, 'utf8'));
    return this;
  }

  bytes(value: Uint8Array): this {
    this.#parts.push(Buffer.from(value));
    return this;
  }

  /** `count` copies of `value` (a cheap large body). */
  fill(count: number, value = 0x61): this {
    this.#parts.push(Buffer.alloc(count, value));
    return this;
  }

  /** Overrides the length field (for malformed fixtures); by default it is computed. */
  declareLength(length: number): this {
    this.#declaredLength = length;
    return this;
  }

  /** Type byte (if any), int32 length including itself, then the body. */
  build(): Buffer {
    const body = Buffer.concat(this.#parts);
    const header = Buffer.alloc(this.#type === null ? 4 : 5);
    let at = 0;
    if (this.#type !== null) header[at++] = this.#type;
    header.writeInt32BE(this.#declaredLength ?? body.length + 4, at);
    return Buffer.concat([header, body]);
  }
}

/** A typed message; `type` is one character such as 'Q'. */
export function msg(type: string): BytesBuilder {
  if (type.length !== 1) throw new Error(`message type must be one character, got "${type}"`);
  return new BytesBuilder(type.charCodeAt(0));
}

/** A typed message whose type byte is given numerically (for invalid type bytes). */
export function msgByte(type: number): BytesBuilder {
  return new BytesBuilder(type & 0xff);
}

/** An untyped packet (startup phase): int32 length then the body. */
export function packet(): BytesBuilder {
  return new BytesBuilder(null);
}

export const PROTOCOL_CODES = {
  v3: 196608,
  ssl: 80877103,
  gssenc: 80877104,
  cancel: 80877102,
} as const;

/** A StartupMessage with the parameters in the given order. */
export function startup(
  params: Record<string, string>,
  version: number = PROTOCOL_CODES.v3,
): Buffer {
  const b = packet().int32(version);
  for (const [k, v] of Object.entries(params)) b.cstring(k).cstring(v);
  return b.byte(0).build();
}

export const sslRequest = (): Buffer => packet().int32(PROTOCOL_CODES.ssl).build();
export const gssencRequest = (): Buffer => packet().int32(PROTOCOL_CODES.gssenc).build();
export const cancelRequest = (pid: number, secret: number): Buffer =>
  packet().int32(PROTOCOL_CODES.cancel).int32(pid).int32(secret).build();

/** Frequently used frontend messages. */
export const query = (sql: string): Buffer => msg('Q').cstring(sql).build();
export const sync = (): Buffer => msg('S').build();
export const terminate = (): Buffer => msg('X').build();
export const password = (value: string): Buffer => msg('p').cstring(value).build();

export function concat(...parts: readonly Uint8Array[]): Buffer {
  return Buffer.concat(parts);
}

/** Every way to cut `buf` in two: [head, tail] for each offset 0..length. */
export function* everySplit(buf: Buffer): Generator<[Buffer, Buffer]> {
  for (let i = 0; i <= buf.length; i++) yield [buf.subarray(0, i), buf.subarray(i)];
}

/** `buf` cut into chunks of `size` bytes (the last may be shorter). */
export function chunks(buf: Buffer, size: number): Buffer[] {
  if (size < 1) throw new RangeError('chunk size must be at least 1');
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

/** `buf` cut at the given offsets (sorted, deduplicated, clamped). */
export function splitAt(buf: Buffer, offsets: readonly number[]): Buffer[] {
  const cuts = [...new Set(offsets.map((o) => Math.max(0, Math.min(buf.length, o))))].sort(
    (a, b) => a - b,
  );
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of cuts) {
    out.push(buf.subarray(from, cut));
    from = cut;
  }
  out.push(buf.subarray(from));
  return out;
}
