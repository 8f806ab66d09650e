// OS-level helpers for the test harness: argv-only child processes (never a shell), running server
// tools as the `postgres` OS user under root, locating PostgreSQL, free ports, a throwaway TLS CA.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

export type RunOptions = {
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
};

/** Runs `file` with `args` (no shell) and resolves with stdout; rejects with stderr in the message. */
export function run(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error) {
          const detail = stderr.trim() || stdout.trim();
          reject(
            new Error(`${file} ${args.join(' ')} failed: ${detail || error.message}`, {
              cause: error,
            }),
          );
          return;
        }
        resolve(stdout);
      },
    );
    // A child that exits without reading stdin reports through its exit status, not EPIPE.
    child.stdin?.on('error', () => undefined);
    if (options.input === undefined) child.stdin?.end();
    else child.stdin?.end(options.input);
  });
}

/** True when this process runs as root, where initdb and postgres refuse to run directly. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Runs a server tool as the `postgres` OS user when we are root (via runuser), else directly. */
export function runAsServerUser(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  return isRoot()
    ? run('runuser', ['-u', 'postgres', '--', file, ...args], options)
    : run(file, args, options);
}

let cachedBinDir: Promise<string> | undefined;

/** PostgreSQL's server bin directory: `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin. */
export function findPgBinDir(): Promise<string> {
  cachedBinDir ??= (async () => {
    try {
      const dir = (await run('pg_config', ['--bindir'])).trim();
      if (existsSync(`${dir}/initdb`) && existsSync(`${dir}/pg_ctl`)) return dir;
    } catch {
      // pg_config is optional (it ships with libpq-dev); fall through to the Debian layout.
    }
    const root = '/usr/lib/postgresql';
    const majors = existsSync(root)
      ? readdirSync(root)
          .filter((name) => /^\d+$/.test(name) && existsSync(`${root}/${name}/bin/initdb`))
          .sort((a, b) => Number(b) - Number(a))
      : [];
    if (majors[0] === undefined) {
      throw new Error(
        'PostgreSQL server binaries not found (no pg_config, no /usr/lib/postgresql/*/bin)',
      );
    }
    return `${root}/${majors[0]}/bin`;
  })();
  return cachedBinDir;
}

const OPENSSL_CNF = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = pgward test
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** Writes ca.crt, server.crt and server.key (P-256) into `dir`; returns the CA path. */
export async function makeCertificates(dir: string): Promise<string> {
  const f = (name: string) => join(dir, name);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await writeFile(f('openssl.cnf'), OPENSSL_CNF);
  await run('openssl', [
    'req',
    '-x509',
    '-config',
    f('openssl.cnf'),
    '-extensions',
    'ca_ext',
    ...key,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-days',
    '3650',
    '-subj',
    '/CN=pgward test CA',
  ]);
  await run('openssl', [
    'req',
    '-new',
    '-config',
    f('openssl.cnf'),
    ...key,
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
    '-subj',
    '/CN=localhost',
  ]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '3650',
    '-extfile',
    f('openssl.cnf'),
    '-extensions',
    'server_ext',
    '-out',
    f('server.crt'),
  ]);
  return f('ca.crt');
}

/** A port the OS just handed out on 127.0.0.1; callers retry on the rare reuse race. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}
