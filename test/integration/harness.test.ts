// The PostgreSQL harness itself: real SCRAM and md5 logins, TLS verify-full against the test CA,
// and a private cluster started and disposed inside one test.
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { startPostgres } from '../harness/postgres.js';

const info = inject('pg');

async function connect(config: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client({
    host: info.host,
    port: info.port,
    database: info.database,
    ...config,
  });
  await client.connect();
  return client;
}

async function loginError(user: string, password: string): Promise<unknown> {
  const client = new pg.Client({
    host: info.host,
    port: info.port,
    database: info.database,
    user,
    password,
  });
  try {
    await client.connect();
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => undefined);
  }
  throw new Error(`login as ${user} with a wrong password succeeded`);
}

async function storedHash(user: string): Promise<string> {
  const admin = await connect({ user: info.superuser });
  try {
    const { rows } = await admin.query<{ p: string }>(
      'SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1',
      [user],
    );
    return rows[0]?.p ?? '';
  } finally {
    await admin.end();
  }
}

describe('postgres harness', () => {
  it('logs the SCRAM role in with its password and refuses a wrong one with 28P01', async () => {
    expect(await storedHash(info.scramUser)).toMatch(/^SCRAM-SHA-256\$/);
    const client = await connect({ user: info.scramUser, password: info.scramPassword });
    try {
      const { rows } = await client.query('SELECT current_user AS u');
      expect(rows[0]).toEqual({ u: info.scramUser });
      await client.query('CREATE TABLE harness_scram (id int)');
      await client.query('DROP TABLE harness_scram');
    } finally {
      await client.end();
    }
    expect(await loginError(info.scramUser, `${info.scramPassword}x`)).toMatchObject({
      code: '28P01',
    });
  });

  it('logs the md5 role in with its password and refuses a wrong one with 28P01', async () => {
    expect(await storedHash(info.md5User)).toMatch(/^md5[0-9a-f]{32}$/);
    const client = await connect({ user: info.md5User, password: info.md5Password });
    try {
      const { rows } = await client.query('SELECT current_user AS u');
      expect(rows[0]).toEqual({ u: info.md5User });
    } finally {
      await client.end();
    }
    expect(await loginError(info.md5User, 'wrong')).toMatchObject({ code: '28P01' });
  });

  it('serves TLS that verifies against caFile for localhost and fails for another name', async () => {
    const ca = readFileSync(info.caFile);
    const client = await connect({
      user: info.scramUser,
      password: info.scramPassword,
      ssl: { ca, servername: 'localhost' },
    });
    try {
      const { rows } = await client.query(
        'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      );
      expect(rows[0]).toEqual({ ssl: true });
    } finally {
      await client.end();
    }
    await expect(
      connect({
        user: info.scramUser,
        password: info.scramPassword,
        ssl: { ca, servername: 'example.com' },
      }),
    ).rejects.toThrow(/example\.com/);
  });

  it('starts a private cluster with options and removes it on dispose', async () => {
    let dataDir = '';
    {
      await using c = await startPostgres({ tls: false, maxConnections: 20 });
      dataDir = c.dataDir;
      expect(c.port).not.toBe(info.port);
      expect(await c.psql('SHOW max_connections')).toBe('20\n');
      expect(await c.psql('SHOW ssl')).toBe('off\n');
      const admin = new pg.Client({ connectionString: c.adminUrl('postgres') });
      await admin.connect();
      const { rows } = await admin.query('SELECT current_user AS u');
      expect(rows[0]).toEqual({ u: 'postgres' });
      await admin.end();
    }
    expect(existsSync(dataDir)).toBe(false);
  });
});
