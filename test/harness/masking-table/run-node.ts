// The in-process drivers as case sessions on one connection each: node-postgres over the simple
// protocol, the unnamed extended protocol, or named statements with binary results; postgres.js over a
// simple Query or its named prepared statements. COPY goes through each driver's COPY API.
import type { Readable } from 'node:stream';
import pg from 'pg';
import postgres from 'postgres';
import type { Endpoint } from '../drivers/driver-env.js';
import { pgCopyTo } from '../drivers/pg-copy.js';
import type { CaseResult } from './case.js';
import { failure, normalize } from './normalize.js';

/** One connection running statements in one driver mode. */
export interface CaseSession {
  /** Runs one statement; `copy` reads a COPY TO STDOUT through the driver's COPY API. */
  run(sql: string, copy: boolean): Promise<CaseResult>;
  close(): Promise<void>;
}

export type OpenSession = (e: Endpoint) => Promise<CaseSession>;

export type NodePgMode = 'simple' | 'extended' | 'binary';

/**
 * node-postgres hands binary fields to its parsers as UTF-8 text (its int8 parser then throws): in
 * binary mode every field is kept as that text, the same bytes giving the same text on both sides.
 */
const RAW = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

export function openNodePg(mode: NodePgMode): OpenSession {
  return async (e) => {
    const client = new pg.Client({
      host: e.host,
      port: e.port,
      user: e.user,
      password: e.password,
      database: e.database,
    });
    client.on('notice', () => undefined);
    await client.connect();
    const names = new Map<string, string>();
    const config = (text: string): pg.QueryArrayConfig => {
      if (mode === 'simple') return { text, rowMode: 'array' };
      if (mode === 'extended') return { text, rowMode: 'array', queryMode: 'extended' } as never;
      // A named statement per text: node-postgres parses it once and binds it with binary results.
      let name = names.get(text);
      if (name === undefined) {
        name = `mt_${names.size + 1}`;
        names.set(text, name);
      }
      return { text, name, rowMode: 'array', binary: true, types: RAW } as pg.QueryArrayConfig;
    };
    return {
      async run(sql, copy) {
        try {
          if (copy) {
            const chunks: Buffer[] = [];
            await pgCopyTo(client, sql, (c) => chunks.push(Buffer.from(c)));
            return {
              ok: true,
              sqlstate: null,
              message: null,
              columns: [],
              rows: [],
              copy: Buffer.concat(chunks),
            };
          }
          const r = await client.query(config(sql));
          return {
            ok: true,
            sqlstate: null,
            message: null,
            columns: (r.fields ?? []).map((f) => ({ name: f.name, type: f.dataTypeID })),
            rows: r.rows.map((row) => row.map(normalize)),
          };
        } catch (error) {
          return failure(error);
        }
      },
      close: () => client.end(),
    };
  };
}

export type PostgresJsMode = 'simple' | 'prepared';

/** Named prepared statements over the extended protocol (`simple` is honoured, not typed). */
const PREPARED = { prepare: true, simple: false } as postgres.UnsafeQueryOptions;

export function openPostgresJs(mode: PostgresJsMode): OpenSession {
  return async (e) => {
    const sql = postgres({
      host: e.host,
      port: e.port,
      user: e.user,
      pass: e.password,
      database: e.database,
      ssl: false,
      max: 1,
      onnotice: () => undefined,
    });
    return {
      async run(text, copy) {
        try {
          if (copy) {
            const query = sql.unsafe(text);
            // A COPY the server fails after it started rejects the query and destroys the stream.
            const failed = query.then(
              () => null,
              (error: unknown) => error,
            );
            const data = await readAll(await query.readable());
            const error = (await failed) ?? data.error;
            if (error !== null) return failure(error);
            return {
              ok: true,
              sqlstate: null,
              message: null,
              columns: [],
              rows: [],
              copy: data.bytes,
            };
          }
          const query = mode === 'simple' ? sql.unsafe(text) : sql.unsafe(text, [], PREPARED);
          const r = await query.values();
          return {
            ok: true,
            sqlstate: null,
            message: null,
            columns: (r.columns ?? []).map((c) => ({ name: String(c.name), type: c.type })),
            rows: [...r].map((row) => (row as unknown[]).map(normalize)),
          };
        } catch (error) {
          return failure(error);
        }
      },
      close: () => sql.end({ timeout: 5 }),
    };
  };
}

/** Every chunk of a stream until it ends, or the error that destroyed it. */
function readAll(stream: Readable): Promise<{ bytes: Buffer; error: unknown }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
    stream.on('end', () => resolve({ bytes: Buffer.concat(chunks), error: null }));
    stream.on('error', (error) => resolve({ bytes: Buffer.concat(chunks), error }));
  });
}
