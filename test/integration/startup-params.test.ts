// Startup parameters through the gateway: allowed settings (PGOPTIONS) reach the upstream, settings that
// could change role or search_path and replication connections get a FATAL 42501, application_name
// reaches pg_stat_activity, and the upstream role never appears in a client-visible ParameterStatus.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { childBaseEnv } from '../harness/cli-gateway.js';
import { startGateway, TEST_USERS } from '../harness/gateway.js';
import { RawConnection } from '../harness/raw-wire.js';

const info = inject('pg');
const agent = TEST_USERS.agent;

interface PsqlRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs psql (no shell, no ~/.psqlrc, no inherited PG* variables) and reports how it exited. */
function psql(conninfo: string, sql: string, env: Record<string, string> = {}): Promise<PsqlRun> {
  return new Promise((resolve, reject) => {
    execFile(
      '/usr/bin/psql',
      ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql, conninfo],
      { env: { ...childBaseEnv(), ...env }, timeout: 30_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') reject(error);
        else resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

function conninfo(port: number, extra = ''): string {
  return `host=127.0.0.1 port=${port} dbname=app user=${agent.name} password=${agent.password} sslmode=disable ${extra}`;
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

describe('allowed startup settings', () => {
  it('forwards PGOPTIONS -c intervalstyle=postgres_verbose from psql', async () => {
    await using gw = await startGateway(info);
    const run = await psql(
      conninfo(gw.port),
      "show intervalstyle; select interval '1 day 2 hours'",
      { PGOPTIONS: '-c intervalstyle=postgres_verbose' },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')).toEqual(['postgres_verbose', '@ 1 day 2 hours']);
  });

  it('forwards an allowed search_path and the client application_name to the upstream', async () => {
    await using gw = await startGateway(info);
    const name = `pgward-it-${randomBytes(4).toString('hex')}`;
    const client = new pg.Client({
      connectionString: gw.url(),
      application_name: name,
      options: '-c search_path=public',
    });
    await client.connect();
    try {
      expect((await client.query('show search_path')).rows).toEqual([{ search_path: 'public' }]);
      const admin = new pg.Client({
        host: info.host,
        port: info.port,
        user: info.superuser,
        database: info.database,
      });
      await admin.connect();
      try {
        const { rows } = await admin.query(
          'select usename, application_name from pg_stat_activity where application_name = $1',
          [name],
        );
        expect(rows).toEqual([{ usename: info.scramUser, application_name: name }]);
      } finally {
        await admin.end();
      }
    } finally {
      await client.end();
    }
  });
});

describe('refused startup settings', () => {
  it.each([
    ['-c role=postgres', 'startup parameter "role" is not allowed'],
    ['-c session_authorization=postgres', 'startup parameter "session_authorization"'],
    ['--search_path=evil', 'startup search_path is not allowed'],
    ['-csearch_path=pg_temp,public', 'startup search_path is not allowed'],
    ['-c log_statement=none', 'startup parameter "log_statement"'],
    ['-P', 'startup parameter "-P"'],
  ])('refuses PGOPTIONS %s with FATAL 42501 (psql and node-postgres)', async (options, text) => {
    await using gw = await startGateway(info);
    const run = await psql(conninfo(gw.port), 'select 1', { PGOPTIONS: options });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('FATAL:');
    expect(run.stderr).toContain(text);
    const error = await pgError({ connectionString: gw.url(), options });
    expect(error.code).toBe('42501');
    expect(error.message).toContain(text);
  });

  it('refuses replication=database with FATAL 42501', async () => {
    await using gw = await startGateway(info);
    const run = await psql(conninfo(gw.port, 'replication=database'), 'select 1');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('replication connections are not allowed');
    // node-postgres sends `replication` as a startup parameter; its typings do not list it.
    const config = { connectionString: gw.url(), replication: 'database' } as pg.ClientConfig;
    const error = await pgError(config);
    expect(error.code).toBe('42501');
  });

  it('refuses a role setting passed as its own startup parameter', async () => {
    await using gw = await startGateway(info);
    await using conn = await RawConnection.connect(gw.port);
    const login = conn.login(agent.name, agent.password, 'app', { role: 'postgres' });
    await expect(login).rejects.toMatchObject({ code: '42501', severity: 'FATAL' });
  });
});

describe('the upstream role stays hidden', () => {
  it('reports the identity, never the upstream role, as session_authorization at login', async () => {
    await using gw = await startGateway(info);
    await using conn = await RawConnection.connect(gw.port);
    const { parameters } = await conn.login(agent.name, agent.password);
    expect(parameters.get('session_authorization')).toBe(agent.name);
    for (const [name, value] of parameters) {
      expect(value, `ParameterStatus ${name}`).not.toContain(info.scramUser);
    }
  });

  it('rewrites a session_authorization ParameterStatus the upstream reports later', async () => {
    // A superuser upstream (trusted on loopback) can change session_authorization mid-session.
    await using gw = await startGateway(info, {
      config: {
        upstreams: [
          {
            name: 'app',
            host: info.host,
            port: info.port,
            database: info.database,
            user: info.superuser,
            tls: { mode: 'disable' },
          },
        ],
      },
    });
    await using conn = await RawConnection.connect(gw.port);
    const { parameters } = await conn.login(agent.name, agent.password);
    expect(parameters.get('session_authorization')).toBe(agent.name);
    const frames = await conn.query(`set session authorization ${info.scramUser}`);
    const reported = frames
      .filter((f) => f.type === 'S')
      .map((f) => f.body.toString('utf8').split('\0'));
    expect(reported).toContainEqual(['session_authorization', agent.name, '']);
    for (const [name, value] of reported) {
      expect(value, `ParameterStatus ${name}`).not.toBe(info.scramUser);
    }
  });
});
