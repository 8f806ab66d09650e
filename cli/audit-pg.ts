// The replay target: one PostgreSQL connection (the gateway's own upstream login: TLS, SCRAM) that runs
// a recorded SELECT inside a READ ONLY transaction that is always rolled back, counting rows without
// keeping them. The extended protocol's Parse accepts exactly one statement, so text cannot smuggle more.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import {
  connectUpstream,
  type UpstreamConnection,
  type UpstreamTarget,
  type UpstreamTlsMode,
} from '../proxy/upstream/connect-upstream.js';

const SSL_MODES: Readonly<Record<string, UpstreamTlsMode>> = {
  disable: 'disable',
  require: 'require',
  'verify-full': 'verify-full',
};

/** postgres[ql]://user[:password]@host[:port]/database[?sslmode=…&sslrootcert=…] → a target. */
export function targetFromUrl(text: string, env: NodeJS.ProcessEnv): UpstreamTarget {
  const url = new URL(text);
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new Error('the connection string must be a postgres:// URL');
  const mode = url.searchParams.get('sslmode') ?? 'require';
  const tls = SSL_MODES[mode];
  if (tls === undefined)
    throw new Error(`sslmode ${mode} is not supported (disable, require, verify-full)`);
  const ca = url.searchParams.get('sslrootcert');
  const password = url.password !== '' ? decodeURIComponent(url.password) : env.PGPASSWORD;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // RFC 6066 forbids an IP address as SNI; without verification there is no name to send at all.
  const noSni = tls === 'require' && isIP(host) !== 0;
  return {
    name: 'replay',
    host,
    port: url.port === '' ? 5432 : Number(url.port),
    database: decodeURIComponent(url.pathname.slice(1)) || 'postgres',
    user: decodeURIComponent(url.username) || (env.PGUSER ?? 'postgres'),
    password,
    tls: {
      mode: tls,
      ...(ca !== null ? { ca: readFileSync(ca) } : {}),
      ...(noSni ? { servername: '' } : {}),
    },
  };
}

export type ReadResult =
  | { readonly ok: true; readonly rows: number }
  | { readonly ok: false; readonly error: string };

export interface ReadOnlyRunner {
  count(sql: string): Promise<ReadResult>;
  close(): void;
}

interface RoundTrip {
  readonly rows: number;
  readonly error: string | null;
}

function roundTrip(conn: UpstreamConnection, bytes: Buffer, timeoutMs: number): Promise<RoundTrip> {
  return new Promise((resolve, reject) => {
    const parser = new Parser();
    let rows = 0;
    let error: string | null = null;
    const finish = (err: Error | null) => {
      clearTimeout(timer);
      conn.socket.removeListener('data', onData);
      conn.socket.removeListener('close', onClose);
      if (err === null) resolve({ rows, error });
      else reject(err);
    };
    const timer = setTimeout(() => finish(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer) =>
      parser.parse(chunk, (msg: BackendMessage) => {
        if (msg.name === 'dataRow') rows += 1;
        else if (msg.name === 'error') {
          const e = msg as unknown as { message: string; code?: string };
          error ??= `${e.code ?? 'ERROR'}: ${e.message}`;
        } else if (msg.name === 'readyForQuery') finish(null);
      });
    const onClose = () => finish(new Error('the connection closed'));
    conn.socket.on('data', onData);
    conn.socket.once('close', onClose);
    conn.socket.write(bytes);
  });
}

export async function openReadOnlyRunner(
  target: UpstreamTarget,
  options: { readonly timeoutMs: number },
): Promise<ReadOnlyRunner> {
  const conn = await connectUpstream(
    target,
    new Map([['application_name', 'pgward-replay']]),
    options.timeoutMs,
  );
  conn.socket.on('error', () => {});
  const begin = serialize.query(
    `BEGIN TRANSACTION READ ONLY; SET LOCAL statement_timeout = ${Math.ceil(options.timeoutMs)}`,
  );
  const rollback = serialize.query('ROLLBACK');
  return {
    async count(sql) {
      const started = await roundTrip(conn, begin, options.timeoutMs + 1000);
      if (started.error !== null) return { ok: false, error: started.error };
      try {
        const run = await roundTrip(
          conn,
          Buffer.concat([
            serialize.parse({ text: sql }),
            serialize.bind({}),
            serialize.execute({}),
            serialize.sync(),
          ]),
          options.timeoutMs + 1000,
        );
        return run.error === null ? { ok: true, rows: run.rows } : { ok: false, error: run.error };
      } finally {
        // SECURITY: whatever ran, nothing it did survives.
        await roundTrip(conn, rollback, options.timeoutMs + 1000);
      }
    },
    close() {
      conn.socket.end(serialize.end());
    },
  };
}
