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

  it('a hit on the entry set last, after another hit, makes it the newest again', () => {
    const lru = createLru<number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
    // Least recent first: b, a, c. Two more entries evict b, then a.
    lru.set('d', 4);
    lru.set('e', 5);
    expect(lru.get('a')).toBeUndefined();
    expect(lru.get('c')).toBe(3);
  });

  it('keeps exact least-recently-used order through repeated hits on the newest entry', () => {
    // A reference model (an array, most recent last) against the same pseudo-random operations.
    const capacity = 4;
    const lru = createLru<number>(capacity);
    const model: string[] = [];
    let seed = 7;
    const next = () => {
      seed = (seed * 48271) % 2147483647;
      return seed;
    };
    for (let step = 0; step < 5000; step++) {
      const key = `k${next() % 7}`;
      // Runs of the same key are common in real traffic: repeat the previous key half the time.
      const repeat = next() % 2 === 0 && model.length > 0 ? model[model.length - 1]! : key;
      if (next() % 3 === 0) {
        lru.set(repeat, step);
        const at = model.indexOf(repeat);
        if (at >= 0) model.splice(at, 1);
        model.push(repeat);
        if (model.length > capacity) model.shift();
      } else {
        const hit = lru.get(repeat) !== undefined;
        expect(hit).toBe(model.includes(repeat));
        if (hit) {
          model.splice(model.indexOf(repeat), 1);
          model.push(repeat);
        }
      }
      expect(lru.size).toBe(model.length);
    }
  });

  it('capacity 0 stores nothing; negative capacity is refused', () => {
    const lru = createLru<number>(0);
    lru.set('a', 1);
    expect(lru.get('a')).toBeUndefined();
    expect(() => createLru(-1)).toThrow(RangeError);
  });
});
