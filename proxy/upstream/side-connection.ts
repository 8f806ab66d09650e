// A gateway-owned upstream connection for the gateway's own queries (row estimates, catalog lookups),
// opened on first use and never shared with a client's stream. Queries run one at a time.

import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import { PgwardError, toError } from '../../lib/errors.js';
import type { UpstreamConnection } from './connect-upstream.js';

export type Row = readonly (string | null)[];

export interface SideConnection {
  /** Sends the bytes (ending with a Sync or being a simple Query) and collects text rows until ReadyForQuery. */
  run(bytes: Buffer): Promise<Row[]>;
  close(): void;
}

export function createSideConnection(
  open: () => Promise<UpstreamConnection>,
  timeoutMs: number,
): SideConnection {
  let connection: Promise<UpstreamConnection> | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;

  const roundTrip = (conn: UpstreamConnection, bytes: Buffer): Promise<Row[]> =>
    new Promise((resolve, reject) => {
      const parser = new Parser();
      const rows: Row[] = [];
      let failure: Error | null = null;
      const done = (err: Error | null) => {
        clearTimeout(timer);
        conn.socket.removeListener('data', onData);
        conn.socket.removeListener('close', onClose);
        if (err !== null) {
          conn.socket.destroy();
          connection = null;
          reject(
            err instanceof PgwardError
              ? err
              : new PgwardError('PGW_UPSTREAM_PROTOCOL', err.message, { cause: err }),
          );
        } else resolve(rows);
      };
      const timer = setTimeout(
        () =>
          done(
            new PgwardError(
              'PGW_UPSTREAM_CONNECT_FAILED',
              `gateway query timed out after ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      const onData = (chunk: Buffer) =>
        parser.parse(chunk, (msg: BackendMessage) => {
          if (msg.name === 'dataRow')
            rows.push((msg as unknown as { fields: (string | null)[] }).fields);
          else if (msg.name === 'error') failure ??= msg as unknown as Error;
          else if (msg.name === 'readyForQuery') done(failure);
        });
      const onClose = () =>
        done(new PgwardError('PGW_UPSTREAM_CONNECT_FAILED', 'gateway connection closed'));
      conn.socket.on('data', onData);
      conn.socket.once('close', onClose);
      conn.socket.write(bytes);
    });

  return {
    run(bytes) {
      const next = chain.then(async () => {
        if (closed) throw new PgwardError('PGW_UPSTREAM_CONNECT_FAILED', 'connection closed');
        connection ??= open().then((c) => {
          c.socket.on('error', () => {});
          return c;
        });
        return roundTrip(await connection, bytes);
      });
      chain = next.catch(() => undefined);
      return next.catch((err: unknown) => {
        connection = null;
        throw err instanceof PgwardError
          ? err
          : new PgwardError('PGW_UPSTREAM_CONNECT_FAILED', 'gateway query failed', {
              cause: toError(err),
            });
      });
    },
    close() {
      closed = true;
      connection?.then((c) => c.socket.end(Buffer.from([0x58, 0, 0, 0, 4]))).catch(() => undefined);
      connection = null;
    },
  };
}
