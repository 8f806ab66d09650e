// The demo's PGlite wire server with real drivers: transactions keep the one backend to themselves,
// side statements (catalog reads, EXPLAIN) run inside another connection's transaction or unfinished
// extended-protocol batch without disturbing it, and a connection that goes away releases the backend.

import net from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgliteWireServer, servePglite } from './pglite-wire.js';
import { createSideStatementCheck } from './side-statements.js';

let db: PGlite;
let server: PgliteWireServer;

beforeAll(async () => {
  db = await PGlite.create();
  await db.exec(`CREATE TABLE t (id int PRIMARY KEY, v text);
    INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 10) g;`);
  server = await servePglite(db, { isSideStatement: await createSideStatementCheck() });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await db?.close();
});

async function client(): Promise<pg.Client & AsyncDisposable> {
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres' });
  await c.connect();
  return Object.assign(c, { [Symbol.asyncDispose]: () => c.end() });
}

/** A raw protocol connection, for an extended-protocol batch left open without Sync. */
async function rawConnection() {
  const socket = net.connect(server.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const messages: BackendMessage[] = [];
  const waiters: { name: string; resolve: () => void }[] = [];
  const parser = new Parser();
  socket.on('data', (chunk) =>
    parser.parse(chunk, (m) => {
      messages.push(m);
      for (const w of waiters.splice(0))
        if (w.name === m.name) w.resolve();
        else waiters.push(w);
    }),
  );
  const until = (name: string) =>
    new Promise<void>((resolve) => {
      if (messages.some((m) => m.name === name)) resolve();
      else waiters.push({ name, resolve });
    });
  socket.write(serialize.startup({ user: 'postgres', database: 'postgres' }));
  await until('readyForQuery');
  messages.length = 0;
  return {
    messages,
    until,
    send: (...m: Buffer[]) => socket.write(Buffer.concat(m)),
    [Symbol.asyncDispose]: async () => void socket.destroy(),
  };
}

describe('the demo PGlite wire server', () => {
  it('never runs another connection’s statements inside an open transaction', async () => {
    await using a = await client();
    await using b = await client();
    await a.query('BEGIN');
    await a.query("UPDATE t SET v = 'uncommitted' WHERE id = 1");
    const read = b.query('SELECT v FROM t WHERE id = 1');
    await a.query('ROLLBACK');
    expect((await read).rows).toEqual([{ v: 'v1' }]);
  });

  it('answers side statements inside another connection’s idle transaction, which goes on', async () => {
    await using a = await client();
    await using side = await client();
    await a.query('BEGIN');
    await a.query("UPDATE t SET v = 'mine' WHERE id = 2");
    // Would wait for a's COMMIT forever if side statements queued behind the transaction.
    const catalog = await side.query(
      "SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relname = 't'",
    );
    expect(catalog.rows).toEqual([{ relname: 't' }]);
    const plan = await side.query('EXPLAIN (FORMAT JSON) DELETE FROM t WHERE id = $1', [2]);
    expect(JSON.stringify(plan.rows)).toContain('Plan Rows');
    // A failing side statement is rolled back to its savepoint: a's transaction is intact.
    await expect(side.query('SELECT nope FROM pg_catalog.pg_class')).rejects.toThrow(/nope/);
    expect((await a.query('SELECT v FROM t WHERE id = 2')).rows).toEqual([{ v: 'mine' }]);
    await a.query('ROLLBACK');
    expect((await side.query('SELECT v FROM t WHERE id = 2')).rows).toEqual([{ v: 'v2' }]);
  });

  it('splices side statements into an unfinished batch without touching its unnamed portal', async () => {
    await using raw = await rawConnection();
    await using side = await client();
    raw.send(
      serialize.parse({ text: 'SELECT v FROM t WHERE id = $1' }),
      serialize.bind({ values: ['3'] }),
      serialize.flush(),
    );
    await raw.until('bindComplete');
    const plan = await side.query('EXPLAIN (FORMAT JSON) SELECT * FROM t WHERE id = $1', [3]);
    expect(JSON.stringify(plan.rows)).toContain('Plan Rows');
    expect((await side.query('SET search_path TO public')).command).toBe('SET');
    raw.send(serialize.execute(), serialize.sync());
    await raw.until('readyForQuery');
    const row = raw.messages.find((m) => m.name === 'dataRow') as unknown as { fields: string[] };
    expect(row.fields).toEqual(['v3']);
  });

  it('releases the backend when a connection goes away inside its transaction', async () => {
    const a = await client();
    await a.query('BEGIN');
    await a.query("UPDATE t SET v = 'abandoned' WHERE id = 4");
    await using b = await client();
    const read = b.query('SELECT v FROM t WHERE id = 4');
    a.on('error', () => {}); // the driver reports the lost connection; expected here
    a.connection.stream.destroy();
    expect((await read).rows).toEqual([{ v: 'v4' }]);
    await a.end().catch(() => undefined);
  });
});
