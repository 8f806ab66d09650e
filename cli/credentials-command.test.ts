// `pgward credentials` and `pgward login` argument handling, and `credentials` against a served API.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createApi } from '../api/create-api.js';
import { credentialsRoutes } from '../api/routes/credentials.js';
import { serveApi } from '../api/serve-api.js';
import { silentLogger } from '../lib/log.js';
import { credentialsCommand, loginCommand } from './credentials-command.js';

function capture() {
  const io = { stdout: '', stderr: '' };
  return {
    io,
    sink: {
      out: (t: string) => {
        io.stdout += t;
      },
      err: (t: string) => {
        io.stderr += t;
      },
    },
  };
}

async function servedApi() {
  const app = createApi({
    log: silentLogger,
    routes: [
      credentialsRoutes({
        verifyBearer: async (token) =>
          token === 'good'
            ? {
                ok: true,
                identity: { sub: 'alice', groups: [], issuer: 'i', via: 'jwt', expiresAt: null },
              }
            : { ok: false, reason: 'nope' },
        mint: async () => ({ ok: true, credential: 'a.b.c', expiresAt: 1_800_000_000_000 }),
        publicHost: '127.0.0.1',
        publicPort: 6432,
        databases: ['app'],
        log: silentLogger,
      }),
    ],
  });
  return serveApi(app, '127.0.0.1', 0);
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('pgward credentials', () => {
  it('prints the connection string', async () => {
    await using api = await servedApi();
    const { io, sink } = capture();
    const code = await credentialsCommand(
      ['--api', api.url, '--token', 'good', '--database', 'app'],
      {},
      sink,
    );
    expect([code, io.stdout, io.stderr]).toEqual([
      0,
      'postgresql://alice:a.b.c@127.0.0.1:6432/app?sslmode=require\n',
      '',
    ]);
  });

  it('takes the token from PGWARD_TOKEN and prints the whole answer with --json', async () => {
    await using api = await servedApi();
    const { io, sink } = capture();
    const code = await credentialsCommand(
      ['--api', api.url, '--database', 'app', '--json'],
      { PGWARD_TOKEN: 'good' },
      sink,
    );
    expect(code).toBe(0);
    expect(JSON.parse(io.stdout)).toMatchObject({ credential: 'a.b.c' });
  });

  it('prints the problem detail and fails for a refused token', async () => {
    await using api = await servedApi();
    const { io, sink } = capture();
    const code = await credentialsCommand(
      ['--api', api.url, '--token', 'bad', '--database', 'app'],
      {},
      sink,
    );
    expect([code, io.stdout]).toEqual([1, '']);
    expect(io.stderr).toBe('pgward credentials: 401 the access token is not valid\n');
  });

  it('fails clearly when the API is unreachable', async () => {
    const { io, sink } = capture();
    const port = await closedPort();
    const code = await credentialsCommand(
      ['--api', `http://127.0.0.1:${port}`, '--token', 't', '--database', 'app'],
      {},
      sink,
    );
    expect(code).toBe(1);
    expect(io.stderr).toMatch(/cannot reach/);
  });

  it.each([[[]], [['--api', 'http://x']], [['--bogus']]])('usage error for %j', async (args) => {
    const { io, sink } = capture();
    expect(await credentialsCommand(args, {}, sink)).toBe(2);
    expect(io.stderr).toMatch(/usage: pgward credentials/);
  });
});

describe('pgward login', () => {
  it.each([[[]], [['--issuer', 'https://idp']], [['--nope']]])(
    'usage error for %j',
    async (args) => {
      const { io, sink } = capture();
      expect(await loginCommand(args, {}, sink)).toBe(2);
      expect(io.stderr).toMatch(/usage: pgward login/);
    },
  );

  it('refuses a plain-http issuer off loopback, and reports an unreachable one', async () => {
    const { io, sink } = capture();
    expect(
      await loginCommand(['--issuer', 'http://idp.example', '--client-id', 'c'], {}, sink),
    ).toBe(1);
    expect(io.stderr).toMatch(/must use https/);
    const port = await closedPort();
    expect(
      await loginCommand(['--issuer', `http://127.0.0.1:${port}`, '--client-id', 'c'], {}, sink),
    ).toBe(1);
  });
});
