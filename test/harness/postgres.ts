// Throwaway PostgreSQL cluster for integration tests: initdb into a temp dir, TLS from a fresh CA,
// SCRAM and md5 upstream roles with random passwords, a free TCP port on 127.0.0.1.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPgBinDir, freePort, isRoot, makeCertificates, run, runAsServerUser } from './exec.js';

export type StartPostgresOptions = {
  /** Default 600, enough for pool and fan-out tests. */
  maxConnections?: number;
  /** Serve TLS with a certificate signed by `caFile`. Default true. */
  tls?: boolean;
  /** Set log_statement = 'all' (the log is `<dataDir>/server.log`). Default false. */
  logStatements?: boolean;
};

/** What tests need to reach the cluster; plain data so vitest can `provide` it to workers. */
export type PgInfo = {
  host: '127.0.0.1';
  port: number;
  database: 'app';
  superuser: 'postgres';
  scramUser: 'pgward_upstream';
  scramPassword: string;
  md5User: 'pgward_md5';
  md5Password: string;
  /** PEM CA that signed the server cert (SAN DNS:localhost, IP:127.0.0.1); made even without TLS. */
  caFile: string;
  socketDir: string;
};

export interface PgCluster extends PgInfo, AsyncDisposable {
  dataDir: string;
  /** postgres:// URL for the superuser over TCP (trusted from 127.0.0.1). */
  adminUrl(db?: string): string;
  /** Runs SQL (one or more statements) as superuser through psql; returns `-A -t` stdout. */
  psql(sql: string, db?: string): Promise<string>;
  /** Fast shutdown; idempotent. The temp dir stays until dispose. */
  stop(): Promise<void>;
}

const PORT_ATTEMPTS = 5;

/** Starts a fresh cluster; dispose it (`await using`) to stop it and delete its files. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PgCluster> {
  const tls = options.tls ?? true;
  const maxConnections = options.maxConnections ?? 600;
  if (!Number.isInteger(maxConnections) || maxConnections < 5 || maxConnections > 10_000) {
    throw new RangeError(`maxConnections must be an integer in 5..10000, got ${maxConnections}`);
  }
  const bin = await findPgBinDir();
  const root = await mkdtemp(join(tmpdir(), 'pgward-pg-'));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  const tlsDir = join(root, 'tls');
  const logFile = join(dataDir, 'server.log');
  const pgCtl = join(bin, 'pg_ctl');
  const psqlBin = existsSync('/usr/bin/psql') ? '/usr/bin/psql' : join(bin, 'psql');
  let port = 0;

  // The pid file, not a flag, says whether a postmaster runs: a timed-out start may leave one up.
  const stop = async (): Promise<void> => {
    if (!existsSync(join(dataDir, 'postmaster.pid'))) return;
    await runAsServerUser(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', 'stop'], { cwd: root });
  };
  const dispose = async (): Promise<void> => {
    try {
      await stop();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  };

  try {
    await mkdir(socketDir);
    await mkdir(tlsDir);
    const caFile = await makeCertificates(tlsDir);
    // SECURITY: postgres refuses a world-readable key; it must belong to the server user.
    await chmod(join(tlsDir, 'server.key'), 0o600);
    if (isRoot()) await run('chown', ['-R', 'postgres:postgres', root]);

    await runAsServerUser(
      join(bin, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
      { cwd: root },
    );
    await writeFile(join(dataDir, 'pg_hba.conf'), HBA);
    await appendFile(join(dataDir, 'postgresql.conf'), "\ninclude 'pgward.conf'\n");

    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const conf = serverConf({ ...options, maxConnections, tls, port, socketDir, tlsDir });
      await writeFile(join(dataDir, 'pgward.conf'), conf);
      if (isRoot()) await run('chown', ['postgres:postgres', join(dataDir, 'pgward.conf')]);
      const logBefore = (await readFile(logFile, 'utf8').catch(() => '')).length;
      try {
        await runAsServerUser(pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start'], {
          cwd: root,
        });
        break;
      } catch (error) {
        const log = (await readFile(logFile, 'utf8').catch(() => '')).slice(logBefore);
        // Another process took the port between our probe and postgres' bind: try a new one.
        if (attempt < PORT_ATTEMPTS && /could not bind|Address already in use/.test(log)) continue;
        throw new Error(`postgres failed to start; log tail:\n${log.slice(-2000)}`, {
          cause: error,
        });
      }
    }

    const psql = (sql: string, db = 'app'): Promise<string> =>
      run(
        psqlBin,
        [
          '-X',
          '-A',
          '-t',
          '-q',
          '-v',
          'ON_ERROR_STOP=1',
          '-h',
          socketDir,
          '-p',
          String(port),
          '-U',
          'postgres',
          '-d',
          db,
          '-f',
          '-',
        ],
        { input: sql, cwd: root },
      );

    const scramPassword = randomPassword();
    const md5Password = randomPassword();
    await psql('CREATE DATABASE app OWNER postgres;', 'postgres');
    await psql(
      `SET password_encryption = 'scram-sha-256';
       CREATE ROLE pgward_upstream LOGIN PASSWORD '${scramPassword}';
       SET password_encryption = 'md5';
       CREATE ROLE pgward_md5 LOGIN PASSWORD '${md5Password}';
       GRANT CONNECT ON DATABASE app TO pgward_upstream, pgward_md5;
       GRANT ALL ON SCHEMA public TO pgward_upstream, pgward_md5;
       ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO pgward_upstream, pgward_md5;
       ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO pgward_upstream, pgward_md5;
       ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO pgward_upstream, pgward_md5;`,
    );

    return {
      host: '127.0.0.1',
      port,
      database: 'app',
      superuser: 'postgres',
      scramUser: 'pgward_upstream',
      scramPassword,
      md5User: 'pgward_md5',
      md5Password,
      caFile,
      socketDir,
      dataDir,
      adminUrl: (db = 'app') => `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(db)}`,
      psql,
      stop,
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose().catch(() => undefined);
    throw error;
  }
}

const HBA = `# written by test/harness/postgres.ts
local all all trust
host all postgres 127.0.0.1/32 trust
host all pgward_md5 127.0.0.1/32 md5
host all all 127.0.0.1/32 scram-sha-256
`;

function serverConf(
  o: StartPostgresOptions & {
    maxConnections: number;
    tls: boolean;
    port: number;
    socketDir: string;
    tlsDir: string;
  },
): string {
  const lines = [
    "listen_addresses = '127.0.0.1'",
    `port = ${o.port}`,
    `unix_socket_directories = '${o.socketDir}'`,
    `max_connections = ${o.maxConnections}`,
    "shared_buffers = '128MB'",
    // Test speed over durability: the cluster is thrown away after the run.
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    "log_line_prefix = '%m [%p] %q%u@%d '",
    `log_statement = '${o.logStatements ? 'all' : 'none'}'`,
    `ssl = ${o.tls ? 'on' : 'off'}`,
  ];
  if (o.tls) {
    lines.push(
      `ssl_cert_file = '${join(o.tlsDir, 'server.crt')}'`,
      `ssl_key_file = '${join(o.tlsDir, 'server.key')}'`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Random password in [A-Za-z0-9_-]: safe inside a single-quoted SQL literal. */
function randomPassword(): string {
  return randomBytes(24).toString('base64url');
}
