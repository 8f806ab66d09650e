// Client-side TLS: with `tls: {cert, key}` clients verify the gateway with sslmode=verify-full (psql and
// node-postgres), GSSENCRequest is answered 'N', and `tls.required` (or a disallowed cleartext password)
// refuses a plaintext client with 28000.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { childBaseEnv } from '../harness/cli-gateway.js';
import { makeCertificates } from '../harness/exec.js';
import { gatewayConfigDoc, startGateway, TEST_USERS } from '../harness/gateway.js';
import { RawConnection } from '../harness/raw-wire.js';

const info = inject('pg');
const agent = TEST_USERS.agent;

let dir: string;
let caFile: string;
let ca: string;
let tls: { cert: { file: string }; key: { file: string } };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgward-tls-client-'));
  caFile = await makeCertificates(dir);
  ca = await readFile(caFile, 'utf8');
  tls = { cert: { file: join(dir, 'server.crt') }, key: { file: join(dir, 'server.key') } };
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

interface PsqlRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function psql(conninfo: string, sql: string): Promise<PsqlRun> {
  return new Promise((resolve, reject) => {
    execFile(
      '/usr/bin/psql',
      ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql, conninfo],
      { env: childBaseEnv(), timeout: 30_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') reject(error);
        else resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

function conninfo(port: number, extra: string): string {
  return `host=localhost hostaddr=127.0.0.1 port=${port} dbname=app user=${agent.name} password=${agent.password} ${extra}`;
}

function pgConfig(port: number, ssl: pg.ClientConfig['ssl']): pg.ClientConfig {
  return {
    host: '127.0.0.1',
    port,
    database: 'app',
    user: agent.name,
    password: agent.password,
    ssl,
  };
}

async function pgError(config: pg.ClientConfig): Promise<{ code?: string; message: string }> {
  const client = new pg.Client(config);
  try {
    await client.connect();
  } catch (error) {
    return error as { code?: string; message: string };
  } finally {
    await client.end().catch(() => undefined);
  }
  throw new Error('the connection was accepted');
}

describe('TLS towards clients', () => {
  it('serves node-postgres with verify-full against the gateway CA', async () => {
    await using gw = await startGateway(info, { config: { tls } });
    const client = new pg.Client(pgConfig(gw.port, { ca, servername: 'localhost' }));
    await client.connect();
    try {
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
      const stream = (client as unknown as { connection: { stream: { encrypted?: boolean } } })
        .connection.stream;
      expect(stream.encrypted).toBe(true);
    } finally {
      await client.end();
    }
  });

  it('serves psql with sslmode=verify-full and gssencmode=prefer', async () => {
    await using gw = await startGateway(info, { config: { tls } });
    const run = await psql(
      conninfo(gw.port, `sslmode=verify-full sslrootcert=${caFile} gssencmode=prefer`),
      'select 6 * 7',
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout.trim()).toBe('42');
  });

  it('fails verify-full for a client that trusts another CA', async () => {
    await using gw = await startGateway(info, { config: { tls } });
    const error = await pgError(
      pgConfig(gw.port, { ca: await readFile(info.caFile, 'utf8'), servername: 'localhost' }),
    );
    expect(error.message).toMatch(/certificate/);
    const run = await psql(
      conninfo(gw.port, `sslmode=verify-full sslrootcert=${info.caFile}`),
      'select 1',
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/certificate verify failed/);
  });

  it('answers GSSENCRequest with N and continues the login on the same connection', async () => {
    await using gw = await startGateway(info, { config: { tls } });
    await using conn = await RawConnection.connect(gw.port);
    expect(await conn.request('gssenc')).toBe('N');
    await conn.login(agent.name, agent.password);
    expect(RawConnection.rows(await conn.query('select 7'))).toEqual([['7']]);
  });

  it('answers SSLRequest with N when no certificate is configured', async () => {
    await using gw = await startGateway(info);
    await using conn = await RawConnection.connect(gw.port);
    expect(await conn.request('ssl')).toBe('N');
    await conn.login(agent.name, agent.password);
    expect(RawConnection.rows(await conn.query('select 8'))).toEqual([['8']]);
    const run = await psql(conninfo(gw.port, 'sslmode=require'), 'select 1');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/server does not support SSL/);
  });

  it('refuses a second SSLRequest inside TLS', async () => {
    await using gw = await startGateway(info, { config: { tls } });
    await using conn = await RawConnection.connect(gw.port);
    expect(await conn.request('ssl')).toBe('S');
    conn.socket.removeAllListeners('data');
    const secure = tlsConnect({ socket: conn.socket, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    const chunks: Buffer[] = [];
    secure.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((resolve) => secure.once('close', () => resolve()));
    secure.write(serialize.requestSsl());
    await closed;
    const answer = Buffer.concat(chunks);
    expect(String.fromCharCode(answer[0]!)).toBe('E');
    expect(answer.toString('utf8')).toContain('SSLRequest inside TLS');
  });
});

describe('TLS required', () => {
  it('refuses a plaintext client with 28000 when tls.required is set', async () => {
    await using gw = await startGateway(info, { config: { tls: { ...tls, required: true } } });
    const error = await pgError(pgConfig(gw.port, false));
    expect(error.code).toBe('28000');
    const run = await psql(conninfo(gw.port, 'sslmode=disable'), 'select 1');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('pgward requires TLS');
    const ok = await psql(
      conninfo(gw.port, `sslmode=verify-full sslrootcert=${caFile}`),
      'select 1',
    );
    expect(ok).toMatchObject({ code: 0, stdout: '1\n' });
  });

  it('refuses a plaintext password on loopback unless allow_cleartext_on_loopback is set', async () => {
    const auth = gatewayConfigDoc(info).auth as Record<string, unknown>;
    await using gw = await startGateway(info, {
      config: { tls, auth: { ...auth, allow_cleartext_on_loopback: false } },
    });
    await using conn = await RawConnection.connect(gw.port);
    await expect(conn.login(agent.name, agent.password)).rejects.toMatchObject({ code: '28000' });
    const client = new pg.Client(pgConfig(gw.port, { ca, servername: 'localhost' }));
    await client.connect();
    try {
      expect((await client.query('select 9 as n')).rows).toEqual([{ n: 9 }]);
    } finally {
      await client.end();
    }
  });
});
