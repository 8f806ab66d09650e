// COPY through the gateway for every driver: ~100 MB generated on the fly into COPY FROM STDIN, then the
// table read back with COPY TO STDOUT and hashed as it streams. PostgreSQL's own md5 over the stored rows
// must equal both the digest of what was sent and the digest of what came back; memory stays bounded
// on the client side because nothing is ever collected.
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, inject } from 'vitest';
import {
  COPY_OUT_QUERY,
  COPY_OUT_SQL,
  COPY_TABLE_DDL,
  COPY_TABLE_DIGEST_SQL,
  copyRowsSource,
  DigestSink,
  type StreamDigest,
} from '../harness/drivers/copy-data.js';
import {
  type DriverEnv,
  type Endpoint,
  noSessionsLeft,
  startDriverEnv,
} from '../harness/drivers/driver-env.js';
import { pgCopyFrom, pgCopyTo } from '../harness/drivers/pg-copy.js';
import { psqlResult, spawnPsql } from '../harness/drivers/psql.js';
import { runPython } from '../harness/drivers/python.js';
import {
  connectPg,
  type DriverName,
  driverScenario,
  postgresJs,
} from '../harness/drivers/scenario.js';

const info = inject('pg');
let env: DriverEnv;
beforeAll(async () => {
  env = await startDriverEnv(info, 'drv_copy');
});
afterAll(async () => {
  await noSessionsLeft(env);
  await env[Symbol.asyncDispose]();
});

/** 1,000,000 rows of ~99 bytes: about 99 MB each way. */
const ROWS = 1_000_000;
const COPY_IN_SQL = 'copy copy_rows (id, payload) from stdin';
/** Lets the ORDER BY of the read-back sort in memory. */
const WORK_MEM = "set work_mem = '256MB'";

type CopyIn = StreamDigest & { tag: string };
interface CopyDriver {
  copyIn(e: Endpoint): Promise<CopyIn>;
  copyOut(e: Endpoint): Promise<StreamDigest>;
}

const drivers: Record<DriverName, CopyDriver> = {
  psql: {
    async copyIn(e) {
      const source = copyRowsSource(ROWS);
      const child = spawnPsql(e, ['-c', `\\copy copy_rows (id, payload) from pstdin`]);
      const result = psqlResult(child);
      await pipeline(source.stream, child.stdin);
      const r = await result;
      expect(r).toMatchObject({ code: 0, stderr: '' });
      return { ...source.digest(), tag: `COPY ${ROWS}` };
    },
    async copyOut(e) {
      const sink = new DigestSink();
      const child = spawnPsql(e, ['-c', WORK_MEM, '-c', `\\copy (${COPY_OUT_QUERY}) to pstdout`]);
      child.stdin.end();
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      await pipeline(child.stdout, sink.writable());
      expect({ code: await exited, stderr }).toEqual({ code: 0, stderr: '' });
      return sink.digest();
    },
  },
  'node-postgres': {
    async copyIn(e) {
      await using client = await connectPg(e);
      const source = copyRowsSource(ROWS);
      const tag = await pgCopyFrom(client, COPY_IN_SQL, source.stream);
      return { ...source.digest(), tag };
    },
    async copyOut(e) {
      await using client = await connectPg(e);
      await client.query(WORK_MEM);
      const sink = new DigestSink();
      await pgCopyTo(client, COPY_OUT_SQL, (chunk) => sink.update(chunk));
      return sink.digest();
    },
  },
  'postgres.js': {
    async copyIn(e) {
      await using sql = postgresJs(e);
      const source = copyRowsSource(ROWS);
      await pipeline(source.stream, await sql.unsafe(COPY_IN_SQL).writable());
      // The writable finishes on CommandComplete; one more query on the same connection confirms it.
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from copy_rows`;
      return { ...source.digest(), tag: `COPY ${row!.n}` };
    },
    async copyOut(e) {
      await using sql = postgresJs(e);
      await sql.unsafe(WORK_MEM);
      const sink = new DigestSink();
      await pipeline(await sql.unsafe(COPY_OUT_SQL).readable(), sink.writable());
      return sink.digest();
    },
  },
  psycopg: {
    copyIn: (e) => runPython<CopyIn>('copy_rows.py', ['in', 'copy_rows', String(ROWS)], e),
    copyOut: (e) => runPython<StreamDigest>('copy_rows.py', ['out', COPY_OUT_SQL], e),
  },
};

type CopyResult = { sent: CopyIn; stored: { rows: number; md5: string }; received: StreamDigest };

async function roundTrip(e: DriverEnv, driver: DriverName): Promise<CopyResult> {
  await e.admin.query('drop table if exists copy_rows');
  await e.admin.query(COPY_TABLE_DDL);
  await e.admin.query(`alter table copy_rows owner to ${e.direct.user}`);
  try {
    const sent = await drivers[driver].copyIn(e.gateway);
    await e.admin.query(WORK_MEM);
    const { rows } = await e.admin.query<{ rows: number; md5: string }>(COPY_TABLE_DIGEST_SQL);
    const received = await drivers[driver].copyOut(e.gateway);
    return { sent, stored: rows[0]!, received };
  } finally {
    await e.admin.query('drop table if exists copy_rows');
  }
}

describe(`COPY of ${ROWS} rows (~100 MB) in both directions`, () => {
  driverScenario<CopyResult>(
    'COPY FROM STDIN and COPY TO STDOUT',
    () => env,
    {
      psql: (e) => roundTrip(e, 'psql'),
      'node-postgres': (e) => roundTrip(e, 'node-postgres'),
      'postgres.js': (e) => roundTrip(e, 'postgres.js'),
      psycopg: (e) => roundTrip(e, 'psycopg'),
    },
    ({ sent, stored, received }) => {
      expect(sent.bytes).toBeGreaterThan(95_000_000);
      expect(sent).toMatchObject({ rows: ROWS, tag: `COPY ${ROWS}` });
      expect(stored).toEqual({ rows: ROWS, md5: sent.md5 });
      expect(received).toEqual({ rows: ROWS, bytes: sent.bytes, md5: sent.md5 });
    },
    120_000,
  );
});
