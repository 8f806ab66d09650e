// PgBouncer in session mode as a benchmark target: config in a temp dir owned by the postgres OS user,
// run through runuser (pgbouncer refuses root), trust for clients, SCRAM to the server as the upstream role.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, isRoot, run } from '../test/harness/exec.js';
import { spawnService } from './child.js';
import type { BenchContext, RunningTarget } from './targets.js';
import type { Endpoint } from './wire-client.js';

const PORT_ATTEMPTS = 5;

export async function startPgbouncer(ctx: BenchContext, up: Endpoint): Promise<RunningTarget> {
  const dir = join(ctx.tmpDir, 'pgbouncer');
  await mkdir(dir, { recursive: true });
  const password = up.password ?? '';
  // auth_type trust still requires the user to be listed; the password doubles as the server login.
  await writeFile(join(dir, 'userlist.txt'), `"${up.user}" "${password}"\n`, { mode: 0o600 });
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const ini = join(dir, 'pgbouncer.ini');
    await writeFile(ini, iniText(dir, port, up), { mode: 0o600 });
    if (isRoot()) await run('chown', ['-R', 'postgres:postgres', ctx.tmpDir]);
    const [file, args] = isRoot()
      ? ['runuser', ['-u', 'postgres', '--', 'pgbouncer', ini]]
      : ['pgbouncer', [ini]];
    try {
      const { service } = await spawnService({
        name: 'pgbouncer',
        file,
        args,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        ready: (line) => (/process up/.test(line) ? true : undefined),
      });
      // runuser is the child we spawned; pgbouncer itself is the process whose memory counts.
      const pid = Number((await readFile(join(dir, 'pgbouncer.pid'), 'utf8')).trim());
      return {
        name: 'pgbouncer',
        endpoint: { ...up, port, password: null },
        pid: Number.isInteger(pid) && pid > 0 ? pid : null,
        stop: () => service.stop(),
      };
    } catch (err) {
      // Another process took the port between the probe and pgbouncer's bind: try another one.
      if (attempt < PORT_ATTEMPTS && /Address already in use/.test(String(err))) continue;
      throw err;
    }
  }
}

function iniText(dir: string, port: number, up: Endpoint): string {
  const server = `host=${up.host} port=${up.port} dbname=${up.database} user=${up.user} password=${up.password ?? ''}`;
  return `[databases]
${up.database} = ${server}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${join(dir, 'userlist.txt')}
pidfile = ${join(dir, 'pgbouncer.pid')}
pool_mode = session
max_client_conn = 400
default_pool_size = 64
server_tls_sslmode = disable
client_tls_sslmode = disable
log_connections = 0
log_disconnections = 0
`;
}
