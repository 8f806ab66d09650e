// Row estimates for the EXPLAIN guardrail. Estimates come from a side connection the session opens on
// first need (same upstream, same role, the session's search_path), so a pipelined client's batch is
// never interleaved with gateway traffic. See docs/adr/0003-explain-on-a-side-connection.md.

import { serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import { PgwardError, toError } from '../../lib/errors.js';
import type { UpstreamConnection } from './connect-upstream.js';

export interface EstimateRequest {
  /** The statement text, exactly as the client sent it. */
  readonly text: string;
  readonly searchPath: readonly string[];
  /** Extended protocol: the parameter type section of the client's Parse (after the query string). */
  readonly paramTypes?: Buffer;
  /** Extended protocol: the client's Bind body (its parameter values are reused). */
  readonly bind?: Buffer;
}

export interface Explainer {
  /** The planner's row estimate for the statement, or a PgwardError. */
  estimate(request: EstimateRequest): Promise<number>;
  close(): void;
}

/** Quotes a schema name as an identifier. */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Rows the statement is estimated to touch: a ModifyTable node reports its input's estimate. */
export function estimatedRows(plan: unknown): number {
  const top = (Array.isArray(plan) ? plan[0] : plan) as
    | { Plan?: Record<string, unknown> }
    | undefined;
  const node = top?.Plan;
  if (node === undefined)
    throw new PgwardError('PGW_UPSTREAM_PROTOCOL', 'EXPLAIN returned no plan');
  const own = Number(node['Plan Rows']);
  const children = node.Plans as Record<string, unknown>[] | undefined;
  if (node['Node Type'] === 'ModifyTable' && Array.isArray(children) && children.length > 0) {
    return Math.max(own, Number(children[0]!['Plan Rows']));
  }
  if (!Number.isFinite(own))
    throw new PgwardError('PGW_UPSTREAM_PROTOCOL', 'EXPLAIN plan has no row estimate');
  return own;
}

/** Splits a Bind body: returns the parameter section (formats and values) without names or result formats. */
export function bindParameters(bind: Buffer): Buffer {
  let pos = bind.indexOf(0) + 1;
  pos = bind.indexOf(0, pos) + 1;
  if (pos <= 1) throw new PgwardError('PGW_WIRE_PROTOCOL_VIOLATION', 'malformed Bind');
  const start = pos;
  const formats = bind.readInt16BE(pos);
  pos += 2 + 2 * formats;
  const params = bind.readInt16BE(pos);
  pos += 2;
  for (let i = 0; i < params; i++) {
    const len = bind.readInt32BE(pos);
    pos += 4 + (len > 0 ? len : 0);
  }
  return bind.subarray(start, pos);
}

function message(type: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

const cstr = (s: string) => Buffer.from(`${s}\0`, 'utf8');

export function createExplainer(
  open: () => Promise<UpstreamConnection>,
  timeoutMs: number,
): Explainer {
  let connection: Promise<UpstreamConnection> | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  let currentPath: string | null = null;
  let closed = false;

  const roundTrip = (conn: UpstreamConnection, bytes: Buffer): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const parser = new Parser();
      const rows: string[] = [];
      let failure: Error | null = null;
      const timer = setTimeout(
        () => done(new PgwardError('PGW_UPSTREAM_CONNECT_FAILED', 'EXPLAIN timed out')),
        timeoutMs,
      );
      const onData = (chunk: Buffer) =>
        parser.parse(chunk, (msg: BackendMessage) => {
          if (msg.name === 'dataRow')
            rows.push(String((msg as unknown as { fields: unknown[] }).fields[0]));
          else if (msg.name === 'error') failure = msg as unknown as Error;
          else if (msg.name === 'readyForQuery') done(failure);
        });
      const onClose = () =>
        done(new PgwardError('PGW_UPSTREAM_CONNECT_FAILED', 'EXPLAIN connection closed'));
      const done = (err: Error | null) => {
        clearTimeout(timer);
        conn.socket.removeListener('data', onData);
        conn.socket.removeListener('close', onClose);
        if (err !== null) {
          conn.socket.destroy();
          connection = null;
          reject(
            new PgwardError('PGW_UPSTREAM_PROTOCOL', `EXPLAIN failed: ${err.message}`, {
              cause: err,
            }),
          );
        } else resolve(rows);
      };
      conn.socket.on('data', onData);
      conn.socket.once('close', onClose);
      conn.socket.write(bytes);
    });

  const run = async (request: EstimateRequest): Promise<number> => {
    if (closed) throw new PgwardError('PGW_UPSTREAM_CONNECT_FAILED', 'session closed');
    connection ??= open().then((c) => {
      c.socket.on('error', () => {});
      currentPath = null;
      return c;
    });
    const conn = await connection;
    const path = request.searchPath.map(ident).join(', ') || "''";
    if (path !== currentPath) {
      await roundTrip(conn, serialize.query(`SET search_path TO ${path}`));
      currentPath = path;
    }
    const text = `EXPLAIN (FORMAT JSON) ${request.text}`;
    let rows: string[];
    if (request.bind === undefined) {
      rows = await roundTrip(conn, serialize.query(text));
    } else {
      const parse = Buffer.concat([
        cstr(''),
        cstr(text),
        request.paramTypes ?? Buffer.from([0, 0]),
      ]);
      const bind = Buffer.concat([
        cstr(''),
        cstr(''),
        bindParameters(request.bind),
        Buffer.from([0, 0]),
      ]);
      rows = await roundTrip(
        conn,
        Buffer.concat([
          message(0x50, parse),
          message(0x42, bind),
          serialize.execute(),
          serialize.sync(),
        ]),
      );
    }
    if (rows.length === 0)
      throw new PgwardError('PGW_UPSTREAM_PROTOCOL', 'EXPLAIN returned nothing');
    return estimatedRows(JSON.parse(rows.join('\n')));
  };

  return {
    estimate(request) {
      const next = chain.then(() => run(request));
      chain = next.catch(() => undefined);
      return next.catch((err: unknown) => {
        throw err instanceof PgwardError
          ? err
          : new PgwardError('PGW_UPSTREAM_PROTOCOL', 'EXPLAIN failed', { cause: toError(err) });
      });
    },
    close() {
      closed = true;
      connection?.then((c) => c.socket.end(Buffer.from([0x58, 0, 0, 0, 4]))).catch(() => undefined);
      connection = null;
    },
  };
}
