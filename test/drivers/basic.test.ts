// Basic scenarios through the gateway for every driver: a multi-statement simple query, extended query
// with text and binary parameters/results, and the transaction status round trip BEGIN → error →
// ROLLBACK. Each driver's result is normalised to text so one expectation serves all of them.
import { afterAll, beforeAll, describe, expect, inject } from 'vitest';
import { type DriverEnv, noSessionsLeft, startDriverEnv } from '../harness/drivers/driver-env.js';
import { lines, runPsql } from '../harness/drivers/psql.js';
import { runPython } from '../harness/drivers/python.js';
import {
  cell,
  connectPg,
  driverScenario,
  notApplicable,
  postgresJs,
} from '../harness/drivers/scenario.js';

const info = inject('pg');
let env: DriverEnv;
beforeAll(async () => {
  env = await startDriverEnv(info, 'drv_basic');
});
afterAll(async () => {
  await noSessionsLeft(env);
  await env[Symbol.asyncDispose]();
});

type ResultSet = { columns: string[]; rows: (string | null)[][] };

const SIMPLE_SQL =
  "select g as n, repeat('x', g) as s, null::int as z from generate_series(1, 3) g; select 'done' as status";
const SIMPLE_EXPECTED: ResultSet[] = [
  {
    columns: ['n', 's', 'z'],
    rows: [
      ['1', 'x', null],
      ['2', 'xx', null],
      ['3', 'xxx', null],
    ],
  },
  { columns: ['status'], rows: [['done']] },
];

/** Splits psql's unaligned output (headers and footers on) into result sets. */
function psqlResultSets(stdout: string, nullText: string): ResultSet[] {
  const sets: ResultSet[] = [];
  let current: ResultSet | null = null;
  for (const line of lines(stdout)) {
    if (current === null) current = { columns: line.split('|'), rows: [] };
    else if (/^\(\d+ rows?\)$/.test(line)) {
      sets.push(current);
      current = null;
    } else current.rows.push(line.split('|').map((v) => (v === nullText ? null : v)));
  }
  return sets;
}

const PSQL_NO_PARAMS =
  'psql 15 sends only simple Query messages (\\bind arrived in psql 16); extended and prepared ' +
  'protocol for libpq is covered by pgbench -M extended/prepared';

describe('simple query (several statements in one Query message)', () => {
  driverScenario<ResultSet[]>(
    'simple query',
    () => env,
    {
      psql: async (e) => {
        const nullText = '(null)';
        const args = ['-P', 'tuples_only=off', '-P', 'footer=on', '-P', `null=${nullText}`];
        const r = await runPsql(e.gateway, [...args, '-c', SIMPLE_SQL]);
        expect(r.stderr).toBe('');
        return psqlResultSets(r.stdout, nullText);
      },
      'node-postgres': async (e) => {
        await using client = await connectPg(e.gateway);
        const results = (await client.query({ text: SIMPLE_SQL, rowMode: 'array' })) as unknown as {
          fields: { name: string }[];
          rows: unknown[][];
        }[];
        return results.map((r) => ({
          columns: r.fields.map((f) => f.name),
          rows: r.rows.map((row) => row.map(cell)),
        }));
      },
      'postgres.js': async (e) => {
        await using sql = postgresJs(e.gateway);
        const results = (await sql.unsafe(SIMPLE_SQL).simple().values()) as unknown as {
          columns: { name: string }[];
          [i: number]: unknown[];
          length: number;
        }[];
        return results.map((r) => ({
          columns: r.columns.map((c) => c.name),
          rows: Array.from({ length: r.length }, (_, i) => (r[i] ?? []).map(cell)),
        }));
      },
      psycopg: (e) => runPython<ResultSet[]>('basic.py', ['simple', SIMPLE_SQL], e.gateway),
    },
    (result) => expect(result).toEqual(SIMPLE_EXPECTED),
  );
});

describe('extended query with text parameters', () => {
  const expected: ResultSet[] = [{ columns: ['n', 's', 'z'], rows: [['42', 'héllo', null]] }];
  const text = 'select $1::int + 1 as n, $2::text as s, $3::text as z';
  driverScenario<ResultSet[]>(
    'extended query, text parameters',
    () => env,
    {
      psql: notApplicable(PSQL_NO_PARAMS),
      'node-postgres': async (e) => {
        await using client = await connectPg(e.gateway);
        const r = await client.query({ text, values: [41, 'héllo', null], rowMode: 'array' });
        return [{ columns: r.fields.map((f) => f.name), rows: r.rows.map((row) => row.map(cell)) }];
      },
      'postgres.js': async (e) => {
        await using sql = postgresJs(e.gateway);
        const r =
          await sql`select ${41}::int + 1 as n, ${'héllo'}::text as s, ${null}::text as z`.values();
        return [{ columns: r.columns.map((c) => c.name), rows: r.map((row) => row.map(cell)) }];
      },
      psycopg: (e) =>
        runPython<ResultSet[]>(
          'basic.py',
          ['extended', JSON.stringify([41, 'héllo', null])],
          e.gateway,
        ),
    },
    (result) => expect(result).toEqual(expected),
  );
});

describe('extended query with binary parameters and results', () => {
  // Includes a quote and a backslash so any text re-encoding on the way would show.
  const bytes = Buffer.from([0x00, 0xff, 0x01, 0x5c, 0x27]);
  const expected = {
    columns: ['n', 'b', 's'],
    rows: [['42', `\\x${bytes.toString('hex')}`, 'héllo']],
  };
  type BinaryResult = ResultSet & { formats: number[] };
  driverScenario<BinaryResult>(
    'extended query, binary format',
    () => env,
    {
      psql: notApplicable(PSQL_NO_PARAMS),
      'node-postgres': async (e) => {
        // pg sends a Buffer parameter in binary format. Results stay text: pg decodes every DataRow
        // field as UTF-8 text, so binary results (`binary: true`) would mangle bytea even directly.
        await using client = await connectPg(e.gateway);
        const r = await client.query({
          text: 'select $1::int4 + 1 as n, $2::bytea as b, $3::text as s',
          values: [41, bytes, 'héllo'],
          rowMode: 'array',
        });
        return {
          columns: r.fields.map((f) => f.name),
          rows: r.rows.map((row) => row.map(cell)),
          formats: r.fields.map((f) => (f.format === 'binary' ? 1 : 0)),
        };
      },
      'postgres.js': notApplicable(
        'postgres.js declares no format codes in Bind, so every parameter and result is text ' +
          '(bytea travels as hex text)',
      ),
      psycopg: (e) =>
        runPython<BinaryResult>('basic.py', ['binary', bytes.toString('hex')], e.gateway),
    },
    (result, driver) => {
      const { formats, ...rest } = result;
      expect(rest).toEqual(expected);
      expect(formats).toEqual(driver === 'psycopg' ? [1, 1, 1] : [0, 0, 0]);
    },
  );
});

/** Waits (bounded) until node-postgres has processed the ReadyForQuery that ends the last request. */
async function readyForQuery(client: object): Promise<void> {
  for (let i = 0; i < 1000 && (client as { readyForQuery?: boolean }).readyForQuery !== true; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('transaction status round trip: BEGIN, error, ROLLBACK', () => {
  type TxResult = { codes: string[]; count: number; statuses?: string[] };
  const table = (driver: string) => `tx_${driver.replace(/\W/g, '_')}`;
  driverScenario<TxResult>(
    'transaction status',
    () => env,
    {
      psql: async (e) => {
        // psql has no variable for the transaction status; 25P02 after the error shows it instead.
        const t = table('psql');
        const script = [
          `create table ${t} (n int);`,
          'begin;',
          `insert into ${t} values (1);`,
          'select 1/0;',
          '\\echo code=:LAST_ERROR_SQLSTATE',
          'select 1;',
          '\\echo code=:LAST_ERROR_SQLSTATE',
          'rollback;',
          `select count(*) from ${t};`,
        ].join('\n');
        const r = await runPsql(e.gateway, ['-f', '-'], { input: script, onErrorStop: false });
        const out = lines(r.stdout);
        return {
          codes: out.filter((l) => l.startsWith('code=')).map((l) => l.slice(5)),
          count: Number(out.at(-1)),
        };
      },
      'node-postgres': async (e) => {
        const t = table('node-postgres');
        await using client = await connectPg(e.gateway);
        await client.query(`create table ${t} (n int)`);
        const statuses: string[] = [];
        const codes: string[] = [];
        await client.query('begin');
        await client.query(`insert into ${t} values (1)`);
        statuses.push(client.getTransactionStatus() ?? '?');
        for (const sql of ['select 1/0', 'select 1']) {
          await client.query(sql).catch((err: { code: string }) => codes.push(err.code));
          // node-postgres rejects on ErrorResponse; the status arrives with the ReadyForQuery after it.
          await readyForQuery(client);
          statuses.push(client.getTransactionStatus() ?? '?');
        }
        await client.query('rollback');
        statuses.push(client.getTransactionStatus() ?? '?');
        const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from ${t}`);
        return { codes, count: rows[0]!.n, statuses };
      },
      'postgres.js': async (e) => {
        // postgres.js exposes no transaction status; a reserved connection runs the raw statements.
        const t = table('postgres.js');
        await using sql = postgresJs(e.gateway);
        const conn = await sql.reserve();
        const codes: string[] = [];
        try {
          await conn.unsafe(`create table ${t} (n int)`);
          await conn.unsafe('begin');
          await conn.unsafe(`insert into ${t} values (1)`);
          for (const text of ['select 1/0', 'select 1']) {
            await conn.unsafe(text).catch((err: { code: string }) => codes.push(err.code));
          }
          await conn.unsafe('rollback');
          const [row] = await conn.unsafe<{ n: number }[]>(`select count(*)::int as n from ${t}`);
          return { codes, count: row!.n };
        } finally {
          conn.release();
        }
      },
      psycopg: (e) => runPython<TxResult>('basic.py', ['transaction', table('psycopg')], e.gateway),
    },
    (result) => {
      expect(result.codes).toEqual(['22012', '25P02']);
      expect(result.count).toBe(0);
      if (result.statuses !== undefined) expect(result.statuses).toEqual(['T', 'E', 'E', 'I']);
    },
  );
});
