// Config loading: schema defaults, PGWARD_<SECTION>__<KEY> overrides, all problems at once with JSON pointers,
// secret references resolved (or reported), and a deep-frozen result.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ConfigResult, loadConfig, loadConfigFile } from './config.js';

const MINIMAL = `
policy:
  bundle_dir: bundle
upstreams:
  - name: app
    host: db.internal
    database: appdb
    user: gateway
`;

async function tempDir(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pgward-config-'));
  return { dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

function ok(result: ConfigResult) {
  if (!result.ok)
    throw new Error(`expected a valid config, got ${JSON.stringify(result.problems)}`);
  return result;
}

function problems(result: ConfigResult) {
  if (result.ok) throw new Error('expected problems, the config loaded');
  return result.problems;
}

describe('loadConfig: defaults', () => {
  it('fills every default from the schema', () => {
    const { config } = ok(loadConfig(MINIMAL, {}, '/'));
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 6432 });
    expect(config.upstreams[0]).toEqual({
      name: 'app',
      host: 'db.internal',
      database: 'appdb',
      user: 'gateway',
      port: 5432,
      tls: { mode: 'disable' },
    });
    expect(config.auth).toEqual({ allow_cleartext_on_loopback: false, users: [] });
    expect(config.limits).toMatchObject({
      max_startup_bytes: 10000,
      max_password_bytes: 16384,
      max_message_bytes: 67108864,
      max_connections: 1000,
    });
    expect(config.timeouts).toMatchObject({ login_ms: 10000, idle_ms: 0, shutdown_ms: 30000 });
    expect(config.workers).toBe(0);
    expect(config.log).toEqual({ level: 'info' });
    expect(config.startup.allowed_parameters).toContain('application_name');
    expect(config.startup.allowed_search_path).toEqual(['public', '"$user", public']);
    expect(config).not.toHaveProperty('tls');
    expect(config.policy).toEqual({
      bundle_dir: 'bundle',
      disabled: false,
      decision_cache_size: 10000,
      analyzer_cache_size: 10000,
      max_memory_pages: 1024,
      max_named_objects: 10000,
    });
  });

  it('requires a policy source: a bundle, or an explicit disabled: true', () => {
    const without = MINIMAL.replace('policy:\n  bundle_dir: bundle\n', '');
    expect(without).not.toContain('policy');
    expect(problems(loadConfig(without, {}, '/'))).toContainEqual(
      expect.objectContaining({ pointer: '/policy' }),
    );
    expect(
      problems(loadConfig(`${without}policy: { disabled: false }\n`, {}, '/')).length,
    ).toBeGreaterThan(0);
    expect(
      ok(loadConfig(`${without}policy: { disabled: true }\n`, {}, '/')).config.policy.disabled,
    ).toBe(true);
  });

  it('keeps values the file sets', () => {
    const text = `${MINIMAL}listen: { port: 0 }\nworkers: 2\nlog: { level: debug }\n`;
    const { config } = ok(loadConfig(text, {}, '/'));
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 0 });
    expect(config.workers).toBe(2);
    expect(config.log.level).toBe('debug');
  });
});

describe('loadConfig: environment overrides', () => {
  it('PGWARD_<SECTION>__<KEY> overrides the file, JSON values typed', () => {
    const env = {
      PGWARD_LISTEN__PORT: '7000',
      PGWARD_LISTEN__HOST: '0.0.0.0',
      PGWARD_WORKERS: '3',
      PGWARD_AUTH__ALLOW_CLEARTEXT_ON_LOOPBACK: 'true',
      PGWARD_LOG__LEVEL: 'warn',
      PGWARD_TIMEOUTS__IDLE_MS: '250',
    };
    const { config } = ok(loadConfig(`${MINIMAL}listen: { port: 1 }\n`, env, '/'));
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 7000 });
    expect(config.workers).toBe(3);
    expect(config.auth.allow_cleartext_on_loopback).toBe(true);
    expect(config.log.level).toBe('warn');
    expect(config.timeouts.idle_ms).toBe(250);
  });

  it('ignores variables outside the PGWARD_ prefix or naming no section', () => {
    const env = {
      LISTEN__PORT: '1',
      PGWARD_CONFIG: '/etc/x.yaml',
      PGWARD_NOPE__X: '1',
      PGWARD__X: '1',
    };
    expect(ok(loadConfig(MINIMAL, env, '/')).config.listen.port).toBe(6432);
  });

  it('reports an override with the wrong type at its pointer', () => {
    expect(problems(loadConfig(MINIMAL, { PGWARD_LISTEN__PORT: 'seventy' }, '/'))).toEqual([
      { pointer: '/listen/port', message: expect.stringMatching(/integer/) },
    ]);
  });

  it('reports an override that reaches through a non-object', () => {
    const found = problems(loadConfig(MINIMAL, { PGWARD_UPSTREAMS__0__HOST: 'x' }, '/'));
    expect(found).toContainEqual({
      pointer: '/upstreams/0/host',
      message: expect.stringMatching(/non-object/),
    });
  });
});

describe('loadConfig: problems', () => {
  it('reports every problem at once, each with its JSON pointer', () => {
    const text = `
listen: { port: 70000, hots: x }
log: { level: loud }
limits: { max_message_bytes: 10 }
workers: -1
extra: true
`;
    const found = problems(loadConfig(text, {}, '/'));
    const pointers = found.map((p) => p.pointer);
    for (const pointer of [
      '/upstreams',
      '/listen/port',
      '/listen/hots',
      '/log/level',
      '/limits/max_message_bytes',
      '/workers',
      '/extra',
    ]) {
      expect(pointers).toContain(pointer);
    }
    expect(found.every((p) => p.message.length > 0)).toBe(true);
  });

  it.each([
    ['not YAML', 'listen: [unclosed', /YAML/],
    ['a scalar', '42', /mapping/],
    ['a list', '- a\n- b', /mapping/],
    ['empty', '', /mapping/],
  ])('reports a document that is %s at /', (_name, text, message) => {
    expect(problems(loadConfig(text, {}, '/'))).toEqual([
      { pointer: '/', message: expect.stringMatching(message) },
    ]);
  });
});

describe('loadConfig: secrets', () => {
  const withSecrets = `${MINIMAL}    password: { env: UPSTREAM_PW }
auth:
  users:
    - name: alice
      password: { file: secrets/alice.txt }
`;

  it('resolves env and file references, files relative to the base directory', async () => {
    await using tmp = await tempDir();
    await writeFile(path.join(tmp.dir, 'alice.txt'), 'not this one');
    await mkdir(path.join(tmp.dir, 'secrets'));
    await writeFile(path.join(tmp.dir, 'secrets', 'alice.txt'), 'alice-pw\n');
    const { config, secret } = ok(loadConfig(withSecrets, { UPSTREAM_PW: 'up-pw' }, tmp.dir));
    const upstreamPassword = config.upstreams[0]!.password!;
    expect(secret(upstreamPassword).toString()).toBe('up-pw');
    expect(secret(config.auth.users[0]!.password).toString()).toBe('alice-pw\n');
  });

  it('reports every unresolved reference at its pointer, and the config does not load', async () => {
    await using tmp = await tempDir();
    const found = problems(loadConfig(withSecrets, {}, tmp.dir));
    expect(found).toEqual([
      { pointer: '/upstreams/0/password', message: expect.stringMatching(/UPSTREAM_PW/) },
      { pointer: '/auth/users/0/password', message: expect.stringMatching(/alice\.txt/) },
    ]);
  });

  it('secret() throws PGW_CONFIG_SECRET_UNRESOLVED when a reference later disappears', () => {
    const env: NodeJS.ProcessEnv = { UPSTREAM_PW: 'x' };
    const { secret } = ok(loadConfig(`${MINIMAL}    password: { env: UPSTREAM_PW }\n`, env, '/'));
    delete env.UPSTREAM_PW;
    expect(() => secret({ env: 'UPSTREAM_PW' })).toThrow(
      expect.objectContaining({ code: 'PGW_CONFIG_SECRET_UNRESOLVED' }),
    );
    expect(() => secret({ file: '/nonexistent/pgward-secret' })).toThrow(
      expect.objectContaining({ code: 'PGW_CONFIG_SECRET_UNRESOLVED' }),
    );
  });

  it('refuses an inline secret value', () => {
    const found = problems(loadConfig(`${MINIMAL}    password: hunter2\n`, {}, '/'));
    expect(found.map((p) => p.pointer)).toContain('/upstreams/0/password');
  });
});

describe('loadConfig: the result is deep-frozen', () => {
  it('freezes every object and array', () => {
    const { config } = ok(loadConfig(MINIMAL, {}, '/'));
    for (const part of [
      config,
      config.listen,
      config.upstreams,
      config.upstreams[0],
      config.upstreams[0]!.tls,
      config.startup.allowed_parameters,
      config.auth.users,
    ]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    expect(() => {
      (config.listen as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => (config.upstreams as unknown[]).push({})).toThrow(TypeError);
  });
});

describe('loadConfigFile', () => {
  it('anchors file secrets at the config file’s directory', async () => {
    await using tmp = await tempDir();
    await writeFile(path.join(tmp.dir, 'pw.txt'), 'from-file');
    const file = path.join(tmp.dir, 'pgward.yaml');
    await writeFile(file, `${MINIMAL}    password: { file: pw.txt }\n`);
    const { config, secret } = ok(loadConfigFile(file, {}));
    expect(secret(config.upstreams[0]!.password!).toString()).toBe('from-file');
  });

  it('reports a missing file at /', () => {
    expect(problems(loadConfigFile('/nonexistent/pgward.yaml', {}))).toEqual([
      { pointer: '/', message: expect.stringMatching(/cannot read/) },
    ]);
  });
});
