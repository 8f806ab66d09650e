// Name resolution helpers, function classification, search_path parsing and the bounded LRU.
import { describe, expect, it } from 'vitest';
import { createLru } from './lru.js';
import {
  classifyFunction,
  parseSearchPath,
  resolveCreation,
  resolveFunction,
  resolveRelation,
} from './names.js';

describe('parseSearchPath', () => {
  it('splits, folds unquoted names and keeps quoted ones', () => {
    expect(parseSearchPath('"$user", public')).toEqual(['$user', 'public']);
    expect(parseSearchPath('Evil ,"Pub""lic",x')).toEqual(['evil', 'Pub"lic', 'x']);
    expect(parseSearchPath('$user,public')).toEqual(['$user', 'public']);
    expect(parseSearchPath('')).toEqual([]);
  });

  it('rejects malformed lists', () => {
    expect(parseSearchPath('a,,b')).toBeNull();
    expect(parseSearchPath('"open')).toBeNull();
    expect(parseSearchPath('a b')).toBeNull();
  });
});

describe('resolution', () => {
  it('relations: qualified as given, catalog names to pg_catalog, else the first schema', () => {
    expect(resolveRelation('app', 't', ['public'])).toEqual({ schema: 'app', table: 't' });
    expect(resolveRelation(undefined, 'pg_roles', ['public'])).toEqual({
      schema: 'pg_catalog',
      table: 'pg_roles',
    });
    expect(resolveRelation(undefined, 't', ['$user', 'pg_temp', 'app'])).toEqual({
      schema: 'pg_temp',
      table: 't',
    });
    expect(resolveRelation(undefined, 't', ['$user'])).toEqual({ schema: '', table: 't' });
  });

  it('creation goes to the first schema, or pg_temp for TEMP', () => {
    expect(resolveCreation(undefined, 't', false, ['$user', 'pg_temp', 'app'])).toEqual({
      schema: 'app',
      table: 't',
    });
    expect(resolveCreation(undefined, 't', true, ['app'])).toEqual({
      schema: 'pg_temp',
      table: 't',
    });
  });

  it('functions: built-ins to pg_catalog unless the path puts pg_catalog later', () => {
    expect(resolveFunction(['upper'], ['public'])).toBe('pg_catalog.upper');
    expect(resolveFunction(['upper'], ['public', 'pg_catalog'])).toBe('public.upper');
    expect(resolveFunction(['mine'], ['pg_temp', 'app'])).toBe('app.mine');
    expect(resolveFunction(['db', 'app', 'f'], ['public'])).toBe('app.f');
  });
});

describe('classifyFunction', () => {
  it('classifies by bare name, case-insensitively', () => {
    expect(classifyFunction('public.dblink_connect')).toBe('dynamic_sql');
    expect(classifyFunction('cron.schedule')).toBe('dynamic_sql');
    expect(classifyFunction('pg_catalog.PG_LS_WALDIR')).toBe('file_function');
    expect(classifyFunction('pg_catalog.loread')).toBe('file_function');
    expect(classifyFunction('x.pg_create_logical_replication_slot')).toBe('server_function');
    expect(classifyFunction('pg_catalog.pg_stat_reset')).toBe('server_function');
    expect(classifyFunction('pg_catalog.set_config')).toBe('set_config');
    expect(classifyFunction('pg_catalog.current_setting')).toBeNull();
    expect(classifyFunction('pg_catalog.lower')).toBeNull();
  });
});

describe('createLru', () => {
  it('evicts the least recently used entry', () => {
    const lru = createLru<number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.size).toBe(2);
    lru.clear();
    expect(lru.size).toBe(0);
  });

  it('capacity 0 stores nothing; negative capacity is refused', () => {
    const lru = createLru<number>(0);
    lru.set('a', 1);
    expect(lru.get('a')).toBeUndefined();
    expect(() => createLru(-1)).toThrow(RangeError);
  });
});
