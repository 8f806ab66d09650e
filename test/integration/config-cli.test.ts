// The config as the CLI sees it: an invalid file exits 2 with every problem listed by JSON pointer (and
// never echoes an inline secret), PGWARD_<SECTION>__<KEY> overrides apply, unresolvable secret
// references are reported.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, startCliGateway, writeConfig } from '../harness/cli-gateway.js';
import { freePort } from '../harness/exec.js';
import { gatewayConfigDoc, gatewayEnv } from '../harness/gateway.js';

const info = inject('pg');
const INLINE_SECRET = 'hunter2-inline-value';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgward-config-cli-'));
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** The `  <pointer>: <message>` lines the CLI prints for an invalid config. */
function problems(stderr: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of stderr.split('\n')) {
    const m = /^\s+(\/\S*): (.*)$/.exec(line);
    if (m === null) continue;
    out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

describe('invalid config', () => {
  it.each(['serve', 'config check'])(
    '`pgward %s` exits 2 and lists every problem with its JSON pointer',
    async (command) => {
      const file = await writeConfig(dir, {
        listen: { host: '127.0.0.1', port: 99999 },
        bogus_section: { anything: true },
        auth: { users: [{ name: 'someone', password: INLINE_SECRET }] },
        workers: 1,
      });
      const run = await runCli([...command.split(' '), '--config', file]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`invalid config ${file}`);
      const found = problems(run.stderr);
      expect([...found.keys()]).toEqual(
        expect.arrayContaining([
          '/bogus_section',
          '/upstreams',
          '/auth/users/0/password',
          '/listen/port',
        ]),
      );
      expect(found.get('/listen/port')!.join(' ')).toMatch(/65535/);
      expect(found.get('/bogus_section')!.join(' ')).toMatch(/additional properties/);
      expect(found.get('/upstreams')!.join(' ')).toMatch(/required/);
      // SECURITY: the problem report names where the inline secret is, never what it is.
      expect(run.stderr).not.toContain(INLINE_SECRET);
      expect(run.stdout).not.toContain(INLINE_SECRET);
    },
  );

  it('reports a file that is not YAML, and a missing file, with exit code 2', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'listen: [unclosed\n');
    const broken = await runCli(['serve', '--config', file]);
    expect(broken.code).toBe(2);
    expect(problems(broken.stderr).get('/')?.join(' ')).toMatch(/not valid YAML/);
    const missing = await runCli(['serve', '--config', join(dir, 'absent.yaml')]);
    expect(missing.code).toBe(2);
    expect(problems(missing.stderr).get('/')?.join(' ')).toMatch(/cannot read/);
  });

  it('reports unresolvable secret references by pointer', async () => {
    const doc = gatewayConfigDoc(info);
    const upstream = (doc.upstreams as Record<string, unknown>[])[0]!;
    const file = await writeConfig(dir, {
      ...doc,
      upstreams: [{ ...upstream, password: { env: 'TEST_UNSET_SECRET_7F3A' } }],
      tls: { cert: { file: 'no-such-cert.pem' }, key: { file: 'no-such-key.pem' } },
    });
    const env = gatewayEnv(info);
    const run = await runCli(['config', 'check', '--config', file], { env });
    expect(run.code).toBe(2);
    const found = problems(run.stderr);
    expect(found.get('/upstreams/0/password')?.join(' ')).toContain(
      'environment variable TEST_UNSET_SECRET_7F3A is not set',
    );
    expect(found.get('/tls/cert')?.join(' ')).toContain('no-such-cert.pem');
    expect(found.get('/tls/key')?.join(' ')).toContain('no-such-key.pem');
  });

  it('accepts the same config once the secrets resolve', async () => {
    const file = await writeConfig(dir, gatewayConfigDoc(info));
    const run = await runCli(['config', 'check', '--config', file], { env: gatewayEnv(info) });
    expect(run).toMatchObject({ code: 0, stdout: 'config ok\n' });
  });
});

describe('environment overrides', () => {
  it('PGWARD_LISTEN__PORT overrides the port in the file', async () => {
    const port = await freePort();
    await using gw = await startCliGateway(info, { env: { PGWARD_LISTEN__PORT: String(port) } });
    expect(gw.port).toBe(port);
    const listening = await gw.waitForLog((r) => r.msg === 'listening');
    expect(listening.port).toBe(port);
  });

  it('an override that breaks the schema is reported at its pointer', async () => {
    const file = await writeConfig(dir, gatewayConfigDoc(info));
    const run = await runCli(['config', 'check', '--config', file], {
      env: {
        ...gatewayEnv(info),
        PGWARD_LISTEN__PORT: 'not-a-port',
        PGWARD_TIMEOUTS__LOGIN_MS: '0',
      },
    });
    expect(run.code).toBe(2);
    const found = problems(run.stderr);
    expect(found.get('/listen/port')?.join(' ')).toMatch(/integer/);
    expect(found.get('/timeouts/login_ms')?.join(' ')).toMatch(/>= 1/);
  });
});
