// Read queries for the auditor API, the same SQL on both sinks. SECURITY: every value a caller supplies is
// a ClickHouse query parameter ({name:Type}); the SQL text is assembled from constant fragments only.

import type { SqlRunner } from './migrate.js';
import {
  decodeCursor,
  encodeCursor,
  type Page,
  type PageRequest,
  pageSize,
  TS,
  time,
  Where,
} from './query-parts.js';
import type { AuditOutcome, StatementRecord } from './record.js';
import { statementFromRow } from './sink.js';

export interface StatementFilter {
  readonly sub?: string;
  readonly group?: string;
  readonly outcome?: readonly AuditOutcome[];
  /** schema.table, read or written. */
  readonly table?: string;
  readonly command?: string;
  /** ISO 8601, inclusive. */
  readonly from?: string;
  /** ISO 8601, exclusive. */
  readonly to?: string;
  readonly sessionId?: string;
  /** Case-insensitive substring of the recorded statement text. */
  readonly text?: string;
}

const SELECT_STATEMENTS = 'SELECT * FROM {db:Identifier}.statements';

function statementWhere(filter: StatementFilter): Where {
  const w = new Where();
  if (filter.from !== undefined) w.add(`ts >= {from:${TS}}`, { from: time(filter.from, 'from') });
  if (filter.to !== undefined) w.add(`ts < {to:${TS}}`, { to: time(filter.to, 'to') });
  if (filter.sub !== undefined) w.add('identity_sub = {sub:String}', { sub: filter.sub });
  if (filter.group !== undefined)
    w.add('has(identity_groups, {group:String})', { group: filter.group });
  if (filter.outcome !== undefined && filter.outcome.length > 0)
    w.add('outcome IN {outcomes:Array(String)}', { outcomes: [...filter.outcome] });
  if (filter.table !== undefined)
    w.add('(has(tables_read, {tbl:String}) OR has(tables_written, {tbl:String}))', {
      tbl: filter.table,
    });
  if (filter.command !== undefined)
    w.add('command = {command:String}', { command: filter.command.toUpperCase() });
  if (filter.sessionId !== undefined) w.add('session_id = {sid:String}', { sid: filter.sessionId });
  if (filter.text !== undefined && filter.text !== '')
    w.add('positionCaseInsensitiveUTF8(statement, {text:String}) > 0', { text: filter.text });
  return w;
}

/** Statements, newest first, paginated by (ts, session_id, seq). */
export async function listStatements(
  runner: SqlRunner,
  filter: StatementFilter = {},
  request: PageRequest = {},
): Promise<Page<StatementRecord>> {
  const limit = pageSize(request);
  const w = statementWhere(filter);
  if (request.cursor) {
    const [ts, sid, seq] = decodeCursor(request.cursor, ['string', 'string', 'number']);
    w.add(`(ts, session_id, seq) < ({c_ts:${TS}}, {c_sid:String}, {c_seq:UInt32})`, {
      c_ts: time(String(ts), 'cursor'),
      c_sid: sid,
      c_seq: seq,
    });
  }
  const rows = await runner.select<Record<string, unknown>>(
    `${SELECT_STATEMENTS}${w.sql} ORDER BY ts DESC, session_id DESC, seq DESC LIMIT {limit:UInt32}`,
    { ...w.params, limit: limit + 1 },
  );
  const items = rows.slice(0, limit).map(statementFromRow);
  const last = items[items.length - 1];
  return {
    items,
    next:
      rows.length > limit && last !== undefined
        ? encodeCursor([last.ts, last.session_id, last.seq])
        : null,
  };
}

export {
  listSessions,
  type SessionFilter,
  type SessionSpan,
  type SessionSummary,
  type SessionTimeline,
  sessionEvents,
  sessionSpan,
  sessionStatements,
  sessionTimeline,
} from './queries-sessions.js';
export {
  type StatsDimension,
  type StatsRequest,
  type StatsRow,
  statementStats,
} from './queries-stats.js';
export type { Page, PageRequest } from './query-parts.js';
export { AuditQueryError, MAX_PAGE } from './query-parts.js';
