// judgeStartup and parseOptions: the allow-list, options parsing as the server does it, and every refusal.
import { describe, expect, it } from 'vitest';
import schema from '../../schemas/config.schema.json' with { type: 'json' };
import {
  judgeStartup,
  normaliseSearchPath,
  parseOptions,
  type StartupPolicy,
} from './startup-params.js';

const defaults = schema.properties.startup.properties;
const POLICY: StartupPolicy = {
  allowed: new Set(defaults.allowed_parameters.default),
  allowedSearchPaths: new Set(defaults.allowed_search_path.default.map(normaliseSearchPath)),
};

const judge = (params: Record<string, string>, policy: StartupPolicy = POLICY) =>
  judgeStartup(new Map(Object.entries(params)), policy);

describe('judgeStartup: identity and database', () => {
  it('takes user and database, which are never forwarded as settings', () => {
    expect(judge({ user: 'alice', database: 'app' })).toEqual({
      ok: true,
      user: 'alice',
      database: 'app',
      settings: new Map(),
      applicationName: '',
    });
  });

  it.each([{}, { database: 'app' }, { user: '' }])('refuses a missing or empty user: %j', (p) => {
    expect(judge(p)).toEqual({ ok: false, refused: 'user', name: 'user' });
  });

  it('database defaults to the user, also when empty', () => {
    expect(judge({ user: 'bob' })).toMatchObject({ ok: true, database: 'bob' });
    expect(judge({ user: 'bob', database: '' })).toMatchObject({ ok: true, database: 'bob' });
  });
});

describe('judgeStartup: the allow-list', () => {
  it('forwards allowed settings, names lower-cased', () => {
    const verdict = judge({
      user: 'u',
      Application_Name: 'psql',
      TimeZone: 'UTC',
      DateStyle: 'ISO, MDY',
      client_encoding: 'UTF8',
    });
    expect(verdict).toEqual({
      ok: true,
      user: 'u',
      database: 'u',
      settings: new Map([
        ['application_name', 'psql'],
        ['timezone', 'UTC'],
        ['datestyle', 'ISO, MDY'],
        ['client_encoding', 'UTF8'],
      ]),
      applicationName: 'psql',
    });
  });

  it.each(['shared_preload_libraries', 'log_statement', 'session_preload_libraries', 'foo.bar'])(
    'refuses %s, which is not on the list',
    (name) => {
      expect(judge({ user: 'u', [name]: 'x' })).toEqual({ ok: false, refused: 'options', name });
    },
  );

  it.each(['role', 'ROLE', 'session_authorization', 'Session_Authorization'])(
    'refuses %s as a startup parameter',
    (name) => {
      expect(judge({ user: 'u', [name]: 'postgres' })).toEqual({
        ok: false,
        refused: 'options',
        name: name.toLowerCase(),
      });
    },
  );

  it.each(['-c role=postgres', '-crole=postgres', '--role=postgres', '-c ROLE=postgres'])(
    'refuses role inside options: %s',
    (options) => {
      expect(judge({ user: 'u', options })).toEqual({
        ok: false,
        refused: 'options',
        name: 'role',
      });
    },
  );

  it.each(['-c session_authorization=x', '--session-authorization=x'])(
    'refuses session_authorization inside options: %s',
    (options) => {
      expect(judge({ user: 'u', options })).toEqual({
        ok: false,
        refused: 'options',
        name: 'session_authorization',
      });
    },
  );

  it.each(['true', 'database', 'false', '0', ''])('refuses replication=%s', (value) => {
    expect(judge({ user: 'u', replication: value })).toEqual({
      ok: false,
      refused: 'replication',
      name: 'replication',
    });
  });

  it('fails closed on consumed names in another case (they become ordinary, unlisted settings)', () => {
    expect(judge({ user: 'u', Options: '-c role=x' })).toMatchObject({
      ok: false,
      name: 'options',
    });
    expect(judge({ user: 'u', REPLICATION: 'true' })).toMatchObject({
      ok: false,
      refused: 'options',
    });
    expect(judge({ user: 'u', Database: 'other' })).toMatchObject({ ok: false, name: 'database' });
  });

  it('drops protocol extension parameters (_pq_.*) without refusing', () => {
    expect(judge({ user: 'u', '_pq_.compression': 'on', '_pq_.x': '' })).toMatchObject({
      ok: true,
      settings: new Map(),
    });
  });

  it('an empty allow-list refuses every setting', () => {
    const none: StartupPolicy = { allowed: new Set(), allowedSearchPaths: new Set() };
    expect(judge({ user: 'u' }, none)).toMatchObject({ ok: true });
    expect(judge({ user: 'u', application_name: 'x' }, none)).toMatchObject({
      ok: false,
      name: 'application_name',
    });
  });
});

describe('judgeStartup: options', () => {
  it('merges options into the settings, options winning over the parameter', () => {
    const verdict = judge({
      user: 'u',
      application_name: 'from-param',
      options: '-c application_name=from-options  -cstatement_timeout=5s --lock-timeout=1s',
    });
    expect(verdict).toMatchObject({
      ok: true,
      applicationName: 'from-options',
      settings: new Map([
        ['application_name', 'from-options'],
        ['statement_timeout', '5s'],
        ['lock_timeout', '1s'],
      ]),
    });
  });

  it('refuses an options switch that is not -c or --', () => {
    expect(judge({ user: 'u', options: '-B 100' })).toEqual({
      ok: false,
      refused: 'options',
      name: '-B',
    });
  });
});

describe('judgeStartup: search_path', () => {
  it.each(['public', ' public ', '"$user", public', '"$user",public', '"$user" ,  public'])(
    'allows %j',
    (value) => {
      expect(judge({ user: 'u', search_path: value })).toMatchObject({ ok: true });
      expect(
        judge({ user: 'u', options: `-c search_path=${value.replaceAll(' ', '\\ ')}` }),
      ).toMatchObject({ ok: true });
    },
  );

  it.each(['evil', 'evil, public', 'public, evil', 'PUBLIC', 'pg_temp, public', ''])(
    'refuses %j',
    (value) => {
      expect(judge({ user: 'u', search_path: value })).toEqual({
        ok: false,
        refused: 'search_path',
        name: 'search_path',
      });
    },
  );

  it('checks a search_path set in options, in any spelling', () => {
    for (const options of ['-c search_path=evil', '--search-path=evil', '-c SEARCH_PATH=evil']) {
      expect(judge({ user: 'u', options })).toMatchObject({ ok: false, refused: 'search_path' });
    }
    // An allowed parameter cannot hide a refused one set in options.
    expect(
      judge({ user: 'u', search_path: 'public', options: '-c search_path=evil' }),
    ).toMatchObject({ ok: false, refused: 'search_path' });
  });
});

describe('parseOptions', () => {
  const ok = (options: string, entries: [string, string][]) =>
    expect(parseOptions(options)).toEqual({ ok: true, settings: new Map(entries) });
  const refused = (options: string, name: string) =>
    expect(parseOptions(options)).toEqual({ ok: false, name });

  it('accepts every spelling of a setting', () => {
    ok('-c a=b', [['a', 'b']]);
    ok('-ca=b', [['a', 'b']]);
    ok('--a-b=c', [['a_b', 'c']]);
    ok('-c A-B=C', [['a_b', 'C']]);
    ok('-c a=b=c', [['a', 'b=c']]);
    ok('-c a=', [['a', '']]);
  });

  it('splits on any run of white space and ignores leading and trailing space', () => {
    ok(' \t-c a=1 \n -c\tb=2\r ', [
      ['a', '1'],
      ['b', '2'],
    ]);
    ok('', []);
    ok('   ', []);
  });

  it('a backslash escapes the next character, spaces included', () => {
    ok('-c search_path=a,\\ b', [['search_path', 'a, b']]);
    ok('-c application_name=x\\\\y', [['application_name', 'x\\y']]);
    ok('-c a=\\-c\\ b=c', [['a', '-c b=c']]);
  });

  it('refuses a trailing -c, a missing name or value, and unknown switches', () => {
    refused('-c', '-c');
    refused('-c a=b -c', '-c');
    refused('-c noequals', 'noequals');
    refused('-c =x', '=x');
    refused('--', '');
    refused('-B 100', '-B');
    refused('-e', '-e');
    refused('plain', 'plain');
    refused('-c a=b -d 5', '-d');
  });
});
