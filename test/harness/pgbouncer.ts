// PgBouncer between pgward and the test cluster: config in a temp dir owned by the postgres OS user
// (pgbouncer refuses root), trust for its clients on loopback, SCRAM to the server as the upstream role.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, isRoot, run } from './exec.js';
import type { PgInfo } from './postgres.js';

export interface Pgbouncer extends AsyncDisposable {
  readonly port: number;
}

export async function startPgbouncer(
  pg: PgInfo,
  mode: 'session' | 'transaction',
): Promise<Pgbouncer> {
  const dir = await mkdtemp(join(tmpdir(), 'pgward-pgbouncer-'));
  const port = await freePort();
  await writeFile(join(dir, 'userlist.txt'), `"${pg.scramUser}" "${pg.scramPassword}"\n`, {
    mode: 0o600,
  });
  const ini = join(dir, 'pgbouncer.ini');
  await writeFile(
    ini,
    `[databases]
${pg.database} = host=${pg.host} port=${pg.port} dbname=${pg.database} user=${pg.scramUser} password=${pg.scramPassword}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${join(dir, 'userlist.txt')}
pool_mode = ${mode}
max_client_conn = 200
default_pool_size = 10
ignore_startup_parameters = extra_float_digits,options
server_tls_sslmode = disable
client_tls_sslmode = disable
`,
    { mode: 0o600 },
  );
  if (isRoot()) await run('chown', ['-R', 'postgres:postgres', dir]);
  const [file, args] = isRoot()
    ? ['runuser', ['-u', 'postgres', '--', 'pgbouncer', ini]]
    : ['pgbouncer', [ini]];
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (/process up/.test(seen)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`pgbouncer exited ${code}: ${seen.slice(-500)}`)),
    );
  });
  return {
    port,
    [Symbol.asyncDispose]: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
