// Opens the audit store for the read-only CLI commands (audit verify, replay, policy impact): the
// config's audit section, or a chDB data directory, or a ClickHouse URL given directly.

import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AuditSink } from '../audit/sink.js';
import { createChdbSink } from '../audit/sinks/chdb.js';
import { createClickHouseSink } from '../audit/sinks/clickhouse.js';
import { loadConfigFile } from './config.js';
import type { CommandIo } from './credentials-command.js';

export type { CommandIo };

export const stdio: CommandIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** parseArgs options every store-reading command accepts. */
export const STORE_OPTIONS = {
  config: { type: 'string', short: 'c' },
  'chdb-path': { type: 'string' },
  'clickhouse-url': { type: 'string' },
  database: { type: 'string' },
} as const;

export const STORE_USAGE = `  store: --config <file> (its audit section; default $PGWARD_CONFIG)
         | --chdb-path <dir> | --clickhouse-url <url>   [--database <name>, default pgward]
  chDB opens a data directory in one process at a time: stop the gateway first, or use ClickHouse.`;

export interface StoreValues {
  readonly config?: string | undefined;
  readonly 'chdb-path'?: string | undefined;
  readonly 'clickhouse-url'?: string | undefined;
  readonly database?: string | undefined;
}

export type OpenedStore =
  | { readonly ok: true; readonly sink: AuditSink; readonly where: string }
  | { readonly ok: false; readonly message: string };

/** Never migrates: these commands only read, and an absent store is an answer, not something to create. */
export function openStore(values: StoreValues, env: NodeJS.ProcessEnv): OpenedStore {
  const direct = [values['chdb-path'], values['clickhouse-url']].filter((v) => v !== undefined);
  if (direct.length > 1)
    return { ok: false, message: 'give one of --chdb-path and --clickhouse-url' };
  const database = values.database ?? 'pgward';
  try {
    if (values['clickhouse-url'] !== undefined)
      return {
        ok: true,
        sink: createClickHouseSink({ url: values['clickhouse-url'], database, retentionDays: 1 }),
        where: 'ClickHouse',
      };
    if (values['chdb-path'] !== undefined) return chdb(path.resolve(values['chdb-path']), database);
    const file = values.config ?? env.PGWARD_CONFIG;
    if (file === undefined)
      return {
        ok: false,
        message: 'an audit store is required (--config, --chdb-path or --clickhouse-url)',
      };
    const loaded = loadConfigFile(file, env);
    if (!loaded.ok)
      return {
        ok: false,
        message: `invalid config ${file}: ${loaded.problems.map((p) => `${p.pointer}: ${p.message}`).join('; ')}`,
      };
    const audit = loaded.config.audit;
    if (audit.clickhouse_url !== undefined) {
      // SECURITY: the URL carries credentials; it is resolved here and never printed.
      const url = loaded.secret(audit.clickhouse_url).toString('utf8').trim();
      return {
        ok: true,
        sink: createClickHouseSink({ url, database: audit.database, retentionDays: 1 }),
        where: 'ClickHouse',
      };
    }
    return chdb(path.resolve(loaded.configDir, audit.chdb_path), audit.database);
  } catch (err) {
    return { ok: false, message: `the audit store cannot be opened: ${(err as Error).message}` };
  }
}

function chdb(dir: string, database: string): OpenedStore {
  if (!existsSync(dir)) return { ok: false, message: `no audit store at ${dir}` };
  return {
    ok: true,
    sink: createChdbSink({ path: dir, database, retentionDays: 1 }),
    where: `chDB ${dir}`,
  };
}
