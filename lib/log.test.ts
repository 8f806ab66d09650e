// The JSON logger: secrets redacted by key name wherever they sit (nested, in arrays, in error causes),
// level filtering, child fields, one JSON object per line.
import { describe, expect, it } from 'vitest';
import { PgwardError } from './errors.js';
import { createLogger, type LoggerOptions, redact, silentLogger } from './log.js';

function capture(options: Omit<LoggerOptions, 'write'> = {}) {
  const lines: string[] = [];
  const log = createLogger({ ...options, write: (line) => lines.push(line) });
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, records };
}

const SECRET = 'hunter2-do-not-log';

describe('redaction', () => {
  it.each([
    'password',
    'Password',
    'passwd',
    'db_pass',
    'token',
    'accessToken',
    'refresh_token',
    'secret',
    'client_secret',
    'credential',
    'authorization',
    'cookie',
    'private_key',
    'apiKey',
  ])('redacts a field named %s', (key) => {
    const { log, lines, records } = capture();
    log.info('m', { [key]: SECRET, user: 'alice' });
    expect(lines[0]).not.toContain(SECRET);
    expect(records()[0]).toMatchObject({ [key]: '[redacted]', user: 'alice' });
  });

  it('redacts whole values of secret keys, even objects', () => {
    expect(redact({ password: { env: 'PW' }, secret: [SECRET] })).toEqual({
      password: '[redacted]',
      secret: '[redacted]',
    });
  });

  it('redacts nested objects and arrays', () => {
    const { log, lines, records } = capture();
    log.warn('m', {
      upstream: { name: 'app', auth: { password: SECRET } },
      users: [{ name: 'a', token: SECRET }, { name: 'b' }],
    });
    expect(lines[0]).not.toContain(SECRET);
    expect(records()[0]).toMatchObject({
      upstream: { name: 'app', auth: { password: '[redacted]' } },
      users: [{ name: 'a', token: '[redacted]' }, { name: 'b' }],
    });
  });

  it('writes errors as name, message and code, with the cause chain redacted and no stack', () => {
    const root = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const middle = new Error('login failed', {
      cause: { password: SECRET, host: 'h', inner: root },
    });
    const err = new PgwardError('PGW_UPSTREAM_AUTH_FAILED', 'upstream refused', { cause: middle });
    const { log, lines, records } = capture();
    log.error('upstream login failed', { err });
    expect(lines[0]).not.toContain(SECRET);
    expect(lines[0]).not.toContain('at ');
    expect(records()[0]!.err).toEqual({
      name: 'PgwardError',
      message: 'upstream refused',
      code: 'PGW_UPSTREAM_AUTH_FAILED',
      cause: {
        name: 'Error',
        message: 'login failed',
        cause: {
          password: '[redacted]',
          host: 'h',
          inner: { name: 'Error', message: 'socket hang up', code: 'ECONNRESET' },
        },
      },
    });
  });

  it('never writes a secret past the depth limit', () => {
    let deep: Record<string, unknown> = { password: SECRET };
    for (let i = 0; i < 12; i++) deep = { level: deep };
    const { log, lines } = capture();
    log.info('m', { deep });
    expect(lines[0]).not.toContain(SECRET);
  });

  it('survives cyclic fields and cyclic causes', () => {
    const cyclic: Record<string, unknown> = { name: 'x' };
    cyclic.self = cyclic;
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    const { log, lines } = capture();
    log.info('m', { cyclic, err: a });
    expect(lines).toHaveLength(1);
    expect(() => JSON.parse(lines[0]!)).not.toThrow();
  });

  it('leaves scalars and harmless keys alone', () => {
    expect(redact('password')).toBe('password');
    expect(redact(42)).toBe(42);
    expect(redact(null)).toBe(null);
    expect(redact({ user: 'u', database: 'd', sqlstate: '42501' })).toEqual({
      user: 'u',
      database: 'd',
      sqlstate: '42501',
    });
  });
});

describe('logger', () => {
  it('writes one JSON object per line with ts, level and msg', () => {
    const { log, lines, records } = capture();
    log.info('listening', { port: 6432 });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(lines[0]!.slice(0, -1)).not.toContain('\n');
    const [record] = records();
    expect(record).toMatchObject({ level: 'info', msg: 'listening', port: 6432 });
    expect(new Date(String(record!.ts)).toISOString()).toBe(record!.ts);
  });

  it.each([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ] as const)('level %s writes %j', (level, expected) => {
    const { log, records } = capture({ level });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(records().map((r) => r.level)).toEqual(expected);
  });

  it('defaults to info', () => {
    const { log, records } = capture();
    log.debug('d');
    log.info('i');
    expect(records().map((r) => r.msg)).toEqual(['i']);
  });

  it('child loggers add (redacted) fields and keep the level', () => {
    const { log, lines, records } = capture({ level: 'warn', base: { worker: 1 } });
    const child = log.child({ session: 's_1', token: SECRET });
    child.info('dropped');
    child.warn('kept', { extra: true });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(SECRET);
    expect(records()[0]).toMatchObject({
      msg: 'kept',
      worker: 1,
      session: 's_1',
      token: '[redacted]',
      extra: true,
    });
  });

  it('silentLogger writes nothing and its children are silent too', () => {
    expect(() => {
      silentLogger.error('x', { password: SECRET });
      silentLogger.child({ a: 1 }).info('y');
    }).not.toThrow();
  });
});
