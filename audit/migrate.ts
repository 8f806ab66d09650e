// Applies schemas/clickhouse/*.sql through any sink, idempotently: the bootstrap file at every start,
// each numbered file once (recorded in schema_migrations), and retention.sql when retention_days changed.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What migrate needs from a sink: parameterised statements; `db` is bound by the sink. */
export interface SqlRunner {
  command(sql: string, params?: Readonly<Record<string, unknown>>): Promise<void>;
  select<T>(sql: string, params?: Readonly<Record<string, unknown>>): Promise<T[]>;
}

export interface MigrationFile {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

/** schemas/clickhouse beside the sources (tsx, vitest) or two levels up from dist/audit. */
export function ddlDir(): string {
  for (const rel of ['../schemas/clickhouse/', '../../schemas/clickhouse/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  throw new Error('schemas/clickhouse not found beside the audit module');
}

/** The statements of a DDL file: split at a `;` that ends a line; comment-only pieces dropped. */
export function splitStatements(text: string): string[] {
  return text
    .split(/;[ \t]*(?:\r?\n|$)/)
    .map((s) => s.trim())
    .filter((s) =>
      s.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('--')),
    );
}

export function readMigrations(dir = ddlDir()): {
  bootstrap: readonly string[];
  numbered: readonly MigrationFile[];
  retention: readonly string[];
} {
  const read = (name: string) => splitStatements(readFileSync(`${dir}/${name}`, 'utf8'));
  const numbered = readdirSync(dir)
    .map((name) => ({ name, m: /^(\d{3})_[a-z0-9_]+\.sql$/.exec(name) }))
    .filter((f) => f.m !== null && Number(f.m[1]) > 0)
    .map((f) => ({ version: Number(f.m![1]), name: f.name, statements: read(f.name) }))
    .sort((a, b) => a.version - b.version);
  return { bootstrap: read('000_bootstrap.sql'), numbered, retention: read('retention.sql') };
}

export interface MigrateOptions {
  readonly retentionDays: number;
  readonly now: () => number;
}

const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** Brings the store to the current schema; safe to run at every start and concurrently-idempotent. */
export async function migrate(runner: SqlRunner, options: MigrateOptions): Promise<number[]> {
  const { bootstrap, numbered, retention } = readMigrations();
  const params = { retention_days: options.retentionDays };
  for (const sql of bootstrap) await runner.command(sql, params);
  const applied = new Set(
    (
      await runner.select<{ version: number | string }>(
        'SELECT version FROM {db:Identifier}.schema_migrations FINAL',
      )
    ).map((r) => Number(r.version)),
  );
  const done: number[] = [];
  for (const file of numbered) {
    if (applied.has(file.version)) continue;
    // Each statement is IF NOT EXISTS, so a crash between it and the row below only repeats it.
    for (const sql of file.statements) await runner.command(sql, params);
    await runner.command(
      'INSERT INTO {db:Identifier}.schema_migrations (version, name, applied_at) VALUES ({v:UInt32}, {n:String}, {t:DateTime64(3)})',
      { v: file.version, n: file.name, t: stamp(options.now()) },
    );
    done.push(file.version);
  }
  const [meta] = await runner.select<{ value: string }>(
    "SELECT value FROM {db:Identifier}.audit_meta FINAL WHERE key = 'retention_days'",
  );
  const retentionNow = String(options.retentionDays);
  if (meta?.value !== retentionNow) {
    // A fresh table already has the configured TTL; only a changed value needs the ALTER.
    if (meta !== undefined) for (const sql of retention) await runner.command(sql, params);
    await runner.command(
      "INSERT INTO {db:Identifier}.audit_meta (key, value, updated_at) VALUES ('retention_days', {v:String}, {t:DateTime64(3)})",
      { v: retentionNow, t: stamp(options.now()) },
    );
  }
  return done;
}
