// Zero-copy framer for PostgreSQL's typed messages (type byte + int32 length), used in both directions.
// Runs of messages the session only forwards leave as one slice of the socket chunk; messages it must
// inspect are handed over whole. Every length is checked before a byte of the message is buffered.

import { PgwardError } from '../../lib/errors.js';

/**
 * What the session does with a message type. `rewrite` is `inspect` for hot messages the session writes
 * anew itself (masked DataRows): back-to-back ones come together, as offsets into the chunk, with no views
 * made for each. `observe` is `inspect` for messages the session reads and nearly always passes on as
 * they came: they are shown by offsets and, unless the handler takes one over, stay in the forwarded run.
 */
export const Disposition = { reject: 0, forward: 1, inspect: 2, rewrite: 3, observe: 4 } as const;
export type Disposition = (typeof Disposition)[keyof typeof Disposition];

export interface FramerHandlers {
  /** A contiguous run of bytes to pass on unchanged (may end inside a forwarded message). */
  forward(bytes: Buffer): void;
  /**
   * One complete inspected message. `raw` includes the 5-byte header; both views are only valid
   * during the call (copy to keep).
   */
  message(type: number, body: Buffer, raw: Buffer): void;
  /**
   * Complete messages of one `rewrite` type, back to back: `src[start, end)`, headers included, only valid
   * during the call (a message split across chunks comes alone, reassembled). Absent: such messages go to
   * `message`.
   */
  rewrite?(type: number, src: Buffer, start: number, end: number): void;
  /**
   * One complete `observe` message, `src[start, end)` with its header, only valid during the call. True:
   * it is passed on unchanged with the forwarded bytes around it (the handler sends nothing itself and
   * neither pauses nor stops the framer). False: the handler takes it over, and it is delivered to
   * `message` next, after the bytes before it. Absent: such messages go to `message`.
   */
  observe?(type: number, src: Buffer, start: number, end: number): boolean;
  /** A framing fault; the framer stops and delivers nothing more. */
  fault(error: PgwardError): void;
}

export interface FramerLimits {
  /** Largest message (length field, header included) that is buffered for inspection. */
  maxInspectLength: number;
  /** Largest message (length field) that is forwarded; forwarded bytes are never buffered. */
  maxForwardLength: number;
}

const HEADER = 5;
/** Run type of forwarded bytes (message types are bytes, 0-255). */
const FORWARD_RUN = -1;

export class Framer {
  #table: Uint8Array;
  readonly #limits: FramerLimits;
  readonly #h: FramerHandlers;
  #header = Buffer.alloc(HEADER);
  #headerFill = 0;
  #skip = 0;
  #msg: Buffer | null = null;
  #msgFill = 0;
  /** How the message being assembled is delivered (decided at its header). */
  #msgDisposition: Disposition = Disposition.inspect;
  #paused = false;
  #stopped = false;
  #queue: Buffer[] = [];

  constructor(table: Uint8Array, limits: FramerLimits, handlers: FramerHandlers) {
    this.#table = table;
    this.#limits = limits;
    this.#h = handlers;
  }

  /** Number of bytes held for an incomplete message or while paused (bounded by the limits). */
  get buffered(): number {
    let n = this.#headerFill + this.#msgFill;
    for (const b of this.#queue) n += b.length;
    return n;
  }

  /** True when no partial message is pending (a clean message boundary). */
  get atBoundary(): boolean {
    return this.#headerFill === 0 && this.#skip === 0 && this.#msg === null;
  }

  /** Changes the dispositions from the next message on. */
  setTable(table: Uint8Array): void {
    this.#table = table;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Stops delivery after the current message; later bytes wait until resume(). */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused || this.#stopped) return;
    this.#paused = false;
    while (!this.#paused && !this.#stopped && this.#queue.length > 0) {
      this.#push(this.#queue.shift()!);
    }
  }

  /** Ends delivery for good (connection closing). */
  stop(): void {
    this.#stopped = true;
    this.#queue = [];
    this.#msg = null;
  }

  push(chunk: Buffer): void {
    if (this.#stopped) return;
    if (this.#paused) {
      this.#queue.push(chunk);
      return;
    }
    this.#push(chunk);
  }

  #push(chunk: Buffer): void {
    let pos = this.#continuePartial(chunk);
    if (pos < 0) return;
    const n = chunk.length;
    // The current run: forwarded bytes (FORWARD_RUN) or back-to-back rewrite messages of one type.
    let runStart = pos;
    let runType = FORWARD_RUN;
    while (pos < n) {
      if (n - pos < HEADER) {
        if (!this.#endRun(chunk, runStart, pos, runType)) return;
        chunk.copy(this.#header, 0, pos, n);
        this.#headerFill = n - pos;
        return;
      }
      const type = chunk[pos]!;
      const length = chunk.readInt32BE(pos + 1);
      const disposition = this.#check(type, length);
      if (disposition instanceof PgwardError) {
        if (this.#endRun(chunk, runStart, pos, runType)) this.#fail(disposition);
        return;
      }
      const end = pos + 1 + length;
      if (disposition === Disposition.forward) {
        if (runType !== FORWARD_RUN) {
          if (!this.#endRun(chunk, runStart, pos, runType)) return;
          runStart = pos;
          runType = FORWARD_RUN;
        }
        if (end <= n) {
          pos = end;
          continue;
        }
        this.#skip = end - n;
        pos = n;
        break;
      }
      if (disposition === Disposition.rewrite && end <= n && this.#h.rewrite !== undefined) {
        if (runType !== type) {
          if (!this.#endRun(chunk, runStart, pos, runType)) return;
          runStart = pos;
          runType = type;
        }
        pos = end;
        continue;
      }
      if (disposition === Disposition.observe && end <= n && this.#h.observe !== undefined) {
        if (runType !== FORWARD_RUN) {
          if (!this.#endRun(chunk, runStart, pos, runType)) return;
          runStart = pos;
          runType = FORWARD_RUN;
        }
        if (this.#h.observe(type, chunk, pos, end)) {
          pos = end;
          // Defensive: a handler that stopped or paused the framer anyway ends the run here.
          if (this.#stopped) return;
          if (this.#paused) {
            this.#endRun(chunk, runStart, pos, runType);
            this.#continues(chunk, pos);
            return;
          }
          continue;
        }
        // Taken over: the bytes before it leave first, then it is delivered as an inspected message.
        this.#endRun(chunk, runStart, pos, runType);
        this.#message(type, chunk, pos, end);
        pos = end;
        runStart = pos;
        if (!this.#continues(chunk, pos)) return;
        continue;
      }
      if (!this.#endRun(chunk, runStart, pos, runType)) return;
      if (end > n) {
        this.#startMessage(chunk, pos, n, length, disposition);
        return;
      }
      this.#deliver(type, chunk, pos, end, disposition);
      pos = end;
      runStart = pos;
      runType = FORWARD_RUN;
      if (!this.#continues(chunk, pos)) return;
    }
    this.#endRun(chunk, runStart, pos, runType);
  }

  /**
   * Ends the run `chunk[start, end)`: forwards it, or hands the rewrite messages over. False when the
   * handler stopped or paused the framer (the rest of the chunk, from `end`, is then queued).
   */
  #endRun(chunk: Buffer, start: number, end: number, runType: number): boolean {
    if (end <= start) return true;
    if (runType === FORWARD_RUN) {
      this.#h.forward(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end));
      return true;
    }
    this.#h.rewrite!(runType, chunk, start, end);
    return this.#continues(chunk, end);
  }

  /** After a delivery: false when the handler stopped or paused the framer (the rest is queued). */
  #continues(chunk: Buffer, pos: number): boolean {
    if (this.#stopped) return false;
    if (this.#paused) {
      if (pos < chunk.length) this.#queue.unshift(chunk.subarray(pos));
      return false;
    }
    return true;
  }

  /** Continues a message split across chunks; returns where complete framing resumes, or -1. */
  #continuePartial(chunk: Buffer): number {
    if (this.#skip > 0) {
      const take = Math.min(this.#skip, chunk.length);
      this.#skip -= take;
      this.#h.forward(chunk.subarray(0, take));
      return this.#skip > 0 ? -1 : take;
    }
    if (this.#msg !== null) return this.#fillMessage(chunk, 0);
    if (this.#headerFill > 0) {
      const take = Math.min(HEADER - this.#headerFill, chunk.length);
      chunk.copy(this.#header, this.#headerFill, 0, take);
      this.#headerFill += take;
      if (this.#headerFill < HEADER) return -1;
      this.#headerFill = 0;
      const type = this.#header[0]!;
      const length = this.#header.readInt32BE(1);
      const disposition = this.#check(type, length);
      if (disposition instanceof PgwardError) {
        this.#fail(disposition);
        return -1;
      }
      if (disposition === Disposition.forward) {
        this.#h.forward(Buffer.from(this.#header));
        this.#skip = length + 1 - HEADER;
        const rest = chunk.subarray(take);
        const more = Math.min(this.#skip, rest.length);
        this.#skip -= more;
        if (more > 0) this.#h.forward(rest.subarray(0, more));
        return this.#skip > 0 ? -1 : take + more;
      }
      this.#msgDisposition = disposition;
      this.#msg = Buffer.allocUnsafe(length + 1);
      this.#header.copy(this.#msg, 0);
      this.#msgFill = HEADER;
      return this.#fillMessage(chunk, take);
    }
    return 0;
  }

  #startMessage(
    chunk: Buffer,
    start: number,
    end: number,
    length: number,
    disposition: Disposition,
  ): void {
    this.#msgDisposition = disposition;
    this.#msg = Buffer.allocUnsafe(length + 1);
    chunk.copy(this.#msg, 0, start, end);
    this.#msgFill = end - start;
  }

  #fillMessage(chunk: Buffer, from: number): number {
    const msg = this.#msg!;
    const take = Math.min(msg.length - this.#msgFill, chunk.length - from);
    chunk.copy(msg, this.#msgFill, from, from + take);
    this.#msgFill += take;
    if (this.#msgFill < msg.length) return -1;
    this.#msg = null;
    this.#msgFill = 0;
    this.#deliver(msg[0]!, msg, 0, msg.length, this.#msgDisposition);
    const pos = from + take;
    if (this.#stopped) return -1;
    if (this.#paused) {
      if (pos < chunk.length) this.#queue.unshift(chunk.subarray(pos));
      return -1;
    }
    return pos;
  }

  #deliver(type: number, src: Buffer, start: number, end: number, disposition: Disposition): void {
    if (disposition === Disposition.rewrite && this.#h.rewrite !== undefined)
      this.#h.rewrite(type, src, start, end);
    else if (
      disposition === Disposition.observe &&
      this.#h.observe !== undefined &&
      this.#h.observe(type, src, start, end)
    ) {
      // A message reassembled from several chunks: it leaves alone, as it came.
      if (!this.#stopped)
        this.#h.forward(start === 0 && end === src.length ? src : src.subarray(start, end));
    } else this.#message(type, src, start, end);
  }

  #message(type: number, src: Buffer, start: number, end: number): void {
    this.#h.message(type, src.subarray(start + HEADER, end), src.subarray(start, end));
  }

  #check(type: number, length: number): Disposition | PgwardError {
    const disposition = this.#table[type] as Disposition;
    if (disposition === Disposition.reject) {
      return new PgwardError(
        'PGW_WIRE_PROTOCOL_VIOLATION',
        `invalid message type 0x${type.toString(16).padStart(2, '0')}`,
      );
    }
    if (length < 4) {
      return new PgwardError('PGW_WIRE_PROTOCOL_VIOLATION', `invalid message length ${length}`);
    }
    const max =
      disposition === Disposition.forward
        ? this.#limits.maxForwardLength
        : this.#limits.maxInspectLength;
    if (length > max) {
      return new PgwardError(
        'PGW_WIRE_MESSAGE_TOO_LARGE',
        `message of ${length} bytes exceeds the limit of ${max}`,
      );
    }
    return disposition;
  }

  #fail(error: PgwardError): void {
    this.stop();
    this.#h.fault(error);
  }
}

/** Builds a disposition table: every listed type gets the disposition, every other type is rejected. */
export function dispositionTable(entries: Record<string, Disposition>): Uint8Array {
  const table = new Uint8Array(256);
  for (const [ch, d] of Object.entries(entries)) table[ch.charCodeAt(0)] = d;
  return table;
}

/** A copy of `base` with the listed types' dispositions replaced. */
export function withDispositions(
  base: Uint8Array,
  entries: Record<string, Disposition>,
): Uint8Array {
  const table = Uint8Array.from(base);
  for (const [ch, d] of Object.entries(entries)) table[ch.charCodeAt(0)] = d;
  return table;
}
