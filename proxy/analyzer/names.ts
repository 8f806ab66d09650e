// Name resolution the way PostgreSQL does it (search_path, implicit pg_catalog) and the
// classification of functions that reach outside the statement (files, server, dynamic SQL).
import { BUILTIN_FUNCTIONS, CATALOG_RELATIONS } from './builtins.js';
import type { Flag } from './facts.js';

/** Schema reported when search_path names no usable schema: matches no grant (fails closed). */
export const NO_SCHEMA = '';

const CATALOG_SCHEMAS: ReadonlySet<string> = new Set([
  'pg_catalog',
  'information_schema',
  'pg_toast',
]);

export function isCatalogSchema(schema: string): boolean {
  return CATALOG_SCHEMAS.has(schema);
}

/**
 * Whether pg_catalog is searched before every schema of the path: it is when the path does not
 * name it (implicitly first) or names it first.
 * @see https://www.postgresql.org/docs/current/ddl-schemas.html#DDL-SCHEMAS-CATALOG
 */
function catalogFirst(path: readonly string[]): boolean {
  for (const s of path) {
    if (s === '$user' || s === 'pg_temp') continue;
    return s === 'pg_catalog' || !path.includes('pg_catalog');
  }
  return true;
}

/** First schema of the path that can hold the object (`$user` is ignored, pg_temp too for functions). */
function firstSchema(path: readonly string[], forFunctions: boolean): string {
  for (const s of path) {
    if (s === '$user' || s === '') continue;
    if (forFunctions && s === 'pg_temp') continue;
    return s;
  }
  return NO_SCHEMA;
}

export interface ResolvedRelation {
  schema: string;
  table: string;
}

/** Resolves a relation name; unqualified names go to pg_catalog for catalog relations, else the first schema. */
export function resolveRelation(
  schemaname: string | undefined,
  relname: string,
  path: readonly string[],
): ResolvedRelation {
  if (schemaname !== undefined && schemaname !== '') return { schema: schemaname, table: relname };
  if (CATALOG_RELATIONS.has(relname) && catalogFirst(path)) {
    return { schema: 'pg_catalog', table: relname };
  }
  return { schema: firstSchema(path, false), table: relname };
}

/** Where CREATE (or SELECT INTO) puts an unqualified relation: the first schema, or pg_temp. */
export function resolveCreation(
  schemaname: string | undefined,
  relname: string,
  temporary: boolean,
  path: readonly string[],
): ResolvedRelation {
  if (schemaname !== undefined && schemaname !== '') return { schema: schemaname, table: relname };
  if (temporary) return { schema: 'pg_temp', table: relname };
  return { schema: firstSchema(path, true), table: relname };
}

/** Qualified name of a function call: `schema.name` (a database prefix is dropped). */
export function resolveFunction(parts: readonly string[], path: readonly string[]): string {
  const name = parts[parts.length - 1] ?? '';
  if (parts.length >= 2) return `${parts[parts.length - 2]}.${name}`;
  if (BUILTIN_FUNCTIONS.has(name) && catalogFirst(path)) return `pg_catalog.${name}`;
  return `${firstSchema(path, true)}.${name}`;
}

/** Qualified name of a schema-scoped object other than a relation or function (types, ...). */
export function qualifyObject(parts: readonly string[], path: readonly string[]): string {
  if (parts.length >= 2) return parts.slice(-2).join('.');
  return `${firstSchema(path, false)}.${parts[0] ?? ''}`;
}

const FILE_PREFIXES = ['pg_read_', 'pg_ls_', 'pg_file_', 'lo_'] as const;
const FILE_NAMES: ReadonlySet<string> = new Set([
  'pg_stat_file',
  'pg_logdir_ls',
  'loread',
  'lowrite',
]);
const DYNAMIC_PREFIXES = [
  'dblink',
  'query_to_xml',
  'cursor_to_xml',
  'table_to_xml',
  'schema_to_xml',
  'database_to_xml',
  'crosstab',
] as const;
const DYNAMIC_NAMES: ReadonlySet<string> = new Set([
  'ts_stat',
  'ts_rewrite',
  'pg_background_launch',
]);
const SERVER_PREFIXES = [
  'pg_rotate_logfile',
  'pg_stat_reset',
  'pg_wal_replay_',
  'pg_replication_origin_',
  'pg_logical_slot_',
  'pg_backup_',
  'pg_restore_',
  'pg_clear_',
] as const;
const SERVER_NAMES: ReadonlySet<string> = new Set([
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_signal_backend',
  'pg_reload_conf',
  'pg_promote',
  'pg_switch_wal',
  'pg_create_restore_point',
  'pg_start_backup',
  'pg_stop_backup',
  'pg_create_physical_replication_slot',
  'pg_create_logical_replication_slot',
  'pg_drop_replication_slot',
  'pg_copy_physical_replication_slot',
  'pg_copy_logical_replication_slot',
  'pg_replication_slot_advance',
  'pg_sync_replication_slots',
  'pg_logical_emit_message',
  'pg_log_backend_memory_contexts',
  'pg_import_system_collations',
]);

function startsWithAny(name: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (name.startsWith(p)) return true;
  return false;
}

/**
 * Flag for a function that reaches outside the statement, by its bare name whatever its schema
 * (extensions such as dblink live in any schema).
 * SECURITY: matched case-insensitively so a quoted variant of a dangerous name is flagged too.
 */
export function classifyFunction(qualified: string): Flag | null {
  const dot = qualified.lastIndexOf('.');
  const schema = dot < 0 ? '' : qualified.slice(0, dot).toLowerCase();
  const name = qualified.slice(dot + 1).toLowerCase();
  if (name === 'set_config') return 'set_config';
  if (name === 'pg_notify') return 'listen_notify';
  if (FILE_NAMES.has(name) || startsWithAny(name, FILE_PREFIXES)) return 'file_function';
  if (DYNAMIC_NAMES.has(name) || startsWithAny(name, DYNAMIC_PREFIXES)) return 'dynamic_sql';
  if (schema === 'cron' && name.startsWith('schedule')) return 'dynamic_sql';
  if (SERVER_NAMES.has(name) || startsWithAny(name, SERVER_PREFIXES)) return 'server_function';
  return null;
}

const TRUE_SETTING: ReadonlySet<string> = new Set(['on', 'true', 'yes', '1', 't', 'y']);

/**
 * Whether a setting change makes later SQL lex differently from what the analyzer (and
 * libpg-query) assume: standard_conforming_strings off turns `\'` into an escaped quote, and a
 * client encoding other than UTF-8 (SJIS, BIG5, ...) can hide a quote inside a multibyte character.
 * SECURITY: such a SET would let the next statement mean one thing here and another upstream.
 */
export function breaksLexing(name: string, value: string | null | undefined): boolean {
  const v = (value ?? '').trim().toLowerCase().replace(/^'|'$/g, '');
  if (name === 'standard_conforming_strings') return value != null && !TRUE_SETTING.has(v);
  if (name === 'client_encoding') {
    // PostgreSQL ignores non-alphanumerics in encoding names: UTF-8, utf_8 and UTF8 are one.
    const enc = v.replace(/[^a-z0-9]/g, '');
    return value != null && enc !== 'utf8' && enc !== 'unicode';
  }
  return false;
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128;
}

/**
 * Splits a search_path string the way PostgreSQL's SplitIdentifierString does: comma-separated,
 * double-quoted names keep case (`""` escapes a quote), unquoted names fold ASCII to lower case.
 * Returns null for a malformed list (PostgreSQL rejects it).
 */
export function parseSearchPath(value: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = value.length;
  const skipSpace = () => {
    while (i < n && /\s/.test(value[i] ?? '')) i++;
  };
  skipSpace();
  if (i >= n) return out;
  for (;;) {
    let name: string;
    if (value[i] === '"') {
      let j = i + 1;
      let acc = '';
      for (;;) {
        const q = value.indexOf('"', j);
        if (q < 0) return null;
        acc += value.slice(j, q);
        if (value[q + 1] === '"') {
          acc += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      name = acc;
    } else {
      const start = i;
      while (i < n && value[i] !== ',' && !/\s/.test(value[i] ?? '')) i++;
      if (i === start || !isIdentStart(value.charCodeAt(start))) {
        if (value.slice(start, i) !== '$user') return null;
      }
      name = value.slice(start, i).replace(/[A-Z]/g, (c) => c.toLowerCase());
    }
    out.push(name);
    skipSpace();
    if (i >= n) return out;
    if (value[i] !== ',') return null;
    i++;
    skipSpace();
  }
}
