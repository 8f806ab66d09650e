// The store contract both sinks (embedded chDB, ClickHouse server) implement with the same SQL, the
// batch as the sinks insert it, and rows read back into records (records become rows in encode.ts).

import { SESSION_COLUMNS, STATEMENT_COLUMNS } from './encode.js';
import type { SqlRunner } from './migrate.js';
import type { AuditRows, SessionRecord, StatementRecord } from './record.js';

export interface AuditSink extends SqlRunner {
  readonly kind: 'chdb' | 'clickhouse';
  /** Applies the DDL in schemas/clickhouse idempotently. */
  migrate(): Promise<void>;
  /**
   * Inserts one batch. The batch id is the insert deduplication token: inserting the same id again
   * (a replay after an ambiguous failure) stores nothing new.
   */
  insert(batchId: string, rows: AuditRows): Promise<void>;
  close(): Promise<void>;
}

export const STATEMENTS_TABLE = 'statements';
export const SESSIONS_TABLE = 'session_events';

export { toChTime } from './encode.js';

/** DateTime64 text (`YYYY-MM-DD hh:mm:ss.mmm`, or ISO with date_time_output_format=iso) → ISO. */
export function fromChTime(value: unknown): string {
  const text = String(value);
  if (text.endsWith('Z')) return new Date(text).toISOString();
  return new Date(`${text.replace(' ', 'T')}Z`).toISOString();
}

/**
 * The payloads of a batch per table: its JSONCompactEachRow lines, with the columns they hold in order;
 * empty tables are skipped.
 */
export function batchPayloads(
  rows: AuditRows,
): { table: string; columns: readonly string[]; data: Buffer }[] {
  const out: { table: string; columns: readonly string[]; data: Buffer }[] = [];
  if (rows.statements.length > 0)
    out.push({ table: STATEMENTS_TABLE, columns: STATEMENT_COLUMNS, data: rows.statements });
  if (rows.sessions.length > 0)
    out.push({ table: SESSIONS_TABLE, columns: SESSION_COLUMNS, data: rows.sessions });
  return out;
}

// 64-bit integers arrive as strings when output_format_json_quote_64bit_integers is on.
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const bool = (v: unknown): boolean => v === true || v === 1 || v === 'true';

/** A statements row read with `SELECT *` → the record as written (hash-verifiable). */
export function statementFromRow(row: Record<string, unknown>): StatementRecord {
  const facts = String(row.facts ?? '');
  return {
    ...(row as unknown as StatementRecord),
    ts: fromChTime(row.ts),
    seq: num(row.seq),
    statement_index: num(row.statement_index),
    statement_count: num(row.statement_count),
    executed: bool(row.executed),
    rows: numOrNull(row.rows),
    duration_ms: num(row.duration_ms),
    facts: facts === '' ? null : (JSON.parse(facts) as Record<string, unknown>),
  };
}

export function sessionFromRow(row: Record<string, unknown>): SessionRecord {
  return {
    ...(row as unknown as SessionRecord),
    ts: fromChTime(row.ts),
    tls: bool(row.tls),
    bytes_in: num(row.bytes_in),
    bytes_out: num(row.bytes_out),
    statement_count: num(row.statement_count),
  };
}
