// COPY for node-postgres, which has no COPY API of its own: two small Submittables driving the client's
// copy hooks. COPY FROM STDIN streams a Readable with the socket's backpressure; COPY TO STDOUT hands
// each CopyData payload to a callback as it arrives, so nothing is buffered.
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type pg from 'pg';

/** The parts of pg's Connection the copy hooks use (missing from @types/pg). */
type CopyConnection = pg.Connection & {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
};

abstract class CopyQuery implements pg.Submittable {
  readonly done: Promise<string>;
  #resolve!: (tag: string) => void;
  #reject!: (err: Error) => void;
  protected failed = false;
  #tag = '';

  constructor(readonly text: string) {
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  submit(connection: pg.Connection): void {
    connection.query(this.text);
  }

  handleCommandComplete(msg: { text: string }): void {
    this.#tag = msg.text;
  }

  /** Server ErrorResponse, or a connection fault (then no ReadyForQuery follows). */
  handleError(err: Error): void {
    this.failed = true;
    this.#reject(err);
  }

  handleReadyForQuery(): void {
    if (!this.failed) this.#resolve(this.#tag);
  }

  // pg calls these for any query; a COPY statement has no rows.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(_connection: pg.Connection): void {}
  handleCopyData(_msg: { chunk: Buffer }, _connection: pg.Connection): void {}
}

class CopyFrom extends CopyQuery {
  constructor(
    text: string,
    readonly source: Readable,
  ) {
    super(text);
  }

  override handleCopyInResponse(connection: pg.Connection): void {
    this.#pump(connection as CopyConnection).catch((err: unknown) => {
      (connection as CopyConnection).sendCopyFail(`client source failed: ${String(err)}`);
    });
  }

  async #pump(connection: CopyConnection): Promise<void> {
    for await (const chunk of this.source) {
      if (this.failed) return;
      connection.sendCopyFromChunk(chunk as Buffer);
      if (connection.stream.writableNeedDrain) await once(connection.stream, 'drain');
    }
    connection.endCopyFrom();
  }
}

class CopyTo extends CopyQuery {
  constructor(
    text: string,
    readonly onData: (chunk: Buffer) => void,
  ) {
    super(text);
  }

  override handleCopyData(msg: { chunk: Buffer }): void {
    this.onData(msg.chunk);
  }
}

/** Runs `COPY … FROM STDIN` fed from `source`; resolves with the command tag (`COPY n`). */
export function pgCopyFrom(client: pg.Client, sql: string, source: Readable): Promise<string> {
  return client.query(new CopyFrom(sql, source)).done;
}

/** Runs `COPY … TO STDOUT`, passing every data chunk to `onData`; resolves with the command tag. */
export function pgCopyTo(
  client: pg.Client,
  sql: string,
  onData: (chunk: Buffer) => void,
): Promise<string> {
  return client.query(new CopyTo(sql, onData)).done;
}
