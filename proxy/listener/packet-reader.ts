// Reads the login-phase packets of one connection: the untyped startup packet and typed messages.
// The socket is paused whenever nobody waits for a packet, so a client cannot make the gateway buffer more
// than one bounded packet plus the socket's own high-water mark.

import type { Socket } from 'node:net';
import { PgwardError } from '../../lib/errors.js';

type Waiter = {
  typed: boolean;
  max: number;
  resolve: (packet: Buffer) => void;
  reject: (err: Error) => void;
};

export class PacketReader {
  readonly #socket: Socket;
  #buf: Buffer = Buffer.alloc(0);
  #waiter: Waiter | null = null;
  #ended: Error | null = null;
  readonly #onData = (chunk: Buffer) => {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    this.#settle();
  };
  readonly #onEnd = () =>
    this.#end(new PgwardError('PGW_WIRE_PROTOCOL_VIOLATION', 'connection closed during login'));
  readonly #onError = (err: Error) =>
    this.#end(
      new PgwardError('PGW_WIRE_PROTOCOL_VIOLATION', 'socket error during login', { cause: err }),
    );

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.pause();
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onError);
  }

  /** Bytes received but not yet consumed. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Reads a startup packet (int32 length including itself, then payload); the whole packet is returned. */
  readStartup(max: number): Promise<Buffer> {
    return this.#wait(false, max);
  }

  /** Reads one typed message (type byte, int32 length, payload); the whole message is returned. */
  readTyped(max: number): Promise<Buffer> {
    return this.#wait(true, max);
  }

  /** Stops reading; returns what arrived beyond the last packet. The socket stays paused. */
  detach(): Buffer {
    const socket = this.#socket;
    socket.pause();
    socket.removeListener('data', this.#onData);
    socket.removeListener('end', this.#onEnd);
    socket.removeListener('close', this.#onEnd);
    socket.removeListener('error', this.#onError);
    const rest = this.#buf;
    this.#buf = Buffer.alloc(0);
    return rest;
  }

  #wait(typed: boolean, max: number): Promise<Buffer> {
    if (this.#waiter !== null) {
      return Promise.reject(new PgwardError('PGW_INTERNAL', 'packet reader already waiting'));
    }
    if (this.#ended !== null) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      this.#waiter = { typed, max, resolve, reject };
      this.#settle();
      if (this.#waiter !== null) this.#socket.resume();
    });
  }

  #settle(): void {
    const waiter = this.#waiter;
    if (waiter === null) {
      this.#socket.pause();
      return;
    }
    const offset = waiter.typed ? 1 : 0;
    if (this.#buf.length < offset + 4) return;
    const length = this.#buf.readInt32BE(offset);
    const minimum = waiter.typed ? 4 : 8;
    if (length < minimum) {
      this.#fail(new PgwardError('PGW_WIRE_PROTOCOL_VIOLATION', `invalid packet length ${length}`));
      return;
    }
    if (length > waiter.max) {
      this.#fail(
        new PgwardError(
          'PGW_WIRE_MESSAGE_TOO_LARGE',
          `packet of ${length} bytes exceeds the limit of ${waiter.max}`,
        ),
      );
      return;
    }
    const total = offset + length;
    if (this.#buf.length < total) return;
    const packet = this.#buf.subarray(0, total);
    this.#buf = this.#buf.subarray(total);
    this.#waiter = null;
    this.#socket.pause();
    waiter.resolve(packet);
  }

  #fail(err: Error): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    this.#ended = err;
    this.#socket.pause();
    waiter?.reject(err);
  }

  #end(err: Error): void {
    if (this.#ended === null) this.#ended = err;
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.reject(err);
  }
}
