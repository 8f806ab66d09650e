// Session queries for the auditor API: the session list (opened/closed rows folded into one summary per
// session, newest first, cursor-paginated) and one session's timeline. Parameters only, as in queries.ts.

import type { SqlRunner } from './migrate.js';
import {
  decodeCursor,
  encodeCursor,
  MAX_PAGE,
  type Page,
  type PageRequest,
  pageSize,
  TS,
  time,
  Where,
} from './query-parts.js';
import type { IdentityVia, SessionRecord, StatementRecord } from './record.js';
import { fromChTime, sessionFromRow, statementFromRow } from './sink.js';

export interface SessionFilter {
  readonly sub?: string;
  /** Sessions opened at or after (ISO 8601). */
  readonly from?: string;
  /** Sessions opened before (ISO 8601). */
  readonly to?: string;
  readonly state?: 'open' | 'closed';
  readonly sessionId?: string;
}

export interface SessionSummary {
  readonly session_id: string;
  readonly opened_at: string;
  /** null while the session is open (or its closed record is not stored yet). */
  readonly closed_at: string | null;
  readonly identity_sub: string;
  readonly identity_groups: readonly string[];
  readonly identity_issuer: string;
  readonly identity_via: IdentityVia;
  readonly client_addr: string;
  readonly application_name: string;
  readonly database: string;
  readonly tls: boolean;
  readonly reason: string | null;
  readonly sqlstate: string | null;
  readonly bytes_in: number | null;
  readonly bytes_out: number | null;
  /** From the closed record; null while open. */
  readonly statement_count: number | null;
  readonly last_hash: string | null;
}

// Tuples instead of one aggregate per column: an alias equal to a column name would shadow it.
const SUMMARY = `SELECT session_id,
  minIf(ts, event = 'opened') AS opened_ts,
  maxIf(ts, event = 'closed') AS closed_ts,
  countIf(event = 'opened') AS opens,
  countIf(event = 'closed') AS closes,
  argMinIf((identity_sub, identity_groups, identity_issuer, identity_via, client_addr,
    application_name, database, tls), ts, event = 'opened') AS who,
  argMaxIf((reason, sqlstate, bytes_in, bytes_out, statement_count, last_hash), ts,
    event = 'closed') AS ending
FROM {db:Identifier}.session_events`;

type SummaryRow = {
  session_id: string;
  opened_ts: string;
  closed_ts: string;
  opens: number | string;
  closes: number | string;
  who: [string, string[], string, IdentityVia, string, string, string, boolean];
  ending: [
    string | null,
    string | null,
    number | string,
    number | string,
    number | string,
    string | null,
  ];
};

function summaryOf(row: SummaryRow): SessionSummary {
  const closed = Number(row.closes) > 0;
  const [sub, groups, issuer, via, addr, app, database, tls] = row.who;
  const [reason, sqlstate, bytesIn, bytesOut, count, lastHash] = row.ending;
  return {
    session_id: row.session_id,
    opened_at: fromChTime(row.opened_ts),
    closed_at: closed ? fromChTime(row.closed_ts) : null,
    identity_sub: sub,
    identity_groups: groups,
    identity_issuer: issuer,
    identity_via: via,
    client_addr: addr,
    application_name: app,
    database,
    tls: Boolean(tls),
    reason: closed ? reason : null,
    sqlstate: closed ? sqlstate : null,
    bytes_in: closed ? Number(bytesIn) : null,
    bytes_out: closed ? Number(bytesOut) : null,
    statement_count: closed ? Number(count) : null,
    last_hash: closed ? lastHash : null,
  };
}

/** Sessions by the time they opened, newest first, paginated by (opened_at, session_id). */
export async function listSessions(
  runner: SqlRunner,
  filter: SessionFilter = {},
  request: PageRequest = {},
): Promise<Page<SessionSummary>> {
  const limit = pageSize(request);
  // A closed row is never older than its opened row, so the lower bound may filter rows.
  const where = new Where();
  if (filter.from !== undefined)
    where.add(`ts >= {from:${TS}}`, { from: time(filter.from, 'from') });
  if (filter.sub !== undefined) where.add('identity_sub = {sub:String}', { sub: filter.sub });
  if (filter.sessionId !== undefined)
    where.add('session_id = {sid:String}', { sid: filter.sessionId });
  const having = new Where().add('opens > 0');
  if (filter.to !== undefined) having.add(`opened_ts < {to:${TS}}`, { to: time(filter.to, 'to') });
  if (filter.state === 'open') having.add('closes = 0');
  if (filter.state === 'closed') having.add('closes > 0');
  if (request.cursor) {
    const [ts, sid] = decodeCursor(request.cursor, ['string', 'string']);
    having.add(`(opened_ts, session_id) < ({c_ts:${TS}}, {c_sid:String})`, {
      c_ts: time(String(ts), 'cursor'),
      c_sid: sid,
    });
  }
  const rows = await runner.select<SummaryRow>(
    `${SUMMARY}${where.sql} GROUP BY session_id HAVING ${having.parts.join(' AND ')}
     ORDER BY opened_ts DESC, session_id DESC LIMIT {limit:UInt32}`,
    { ...where.params, ...having.params, limit: limit + 1 },
  );
  const items = rows.slice(0, limit).map(summaryOf);
  const last = items[items.length - 1];
  return {
    items,
    next:
      rows.length > limit && last !== undefined
        ? encodeCursor([last.opened_at, last.session_id])
        : null,
  };
}

export interface SessionTimeline {
  readonly session: SessionSummary | null;
  /** In chain order (seq). */
  readonly statements: readonly StatementRecord[];
  /** afterSeq for the next part of a long session; null when complete. */
  readonly next: string | null;
}

/** One session for replay: its summary and its statements ordered by seq. */
export async function sessionTimeline(
  runner: SqlRunner,
  sessionId: string,
  options: { readonly afterSeq?: number; readonly limit?: number } = {},
): Promise<SessionTimeline> {
  const summary = await summaryRow(runner, sessionId);
  const span = summary === undefined ? null : spanOf(summary);
  const page = await sessionStatements(runner, sessionId, { ...options, span });
  return {
    session: summary === undefined ? null : summaryOf(summary),
    statements: page.items,
    next: page.next,
  };
}

async function summaryRow(runner: SqlRunner, sessionId: string): Promise<SummaryRow | undefined> {
  const [row] = await runner.select<SummaryRow>(
    `${SUMMARY} WHERE session_id = {sid:String} GROUP BY session_id HAVING opens + closes > 0`,
    { sid: sessionId },
  );
  return row;
}

/** When a session opened and closed (store time text), to narrow the search for its statements. */
export interface SessionSpan {
  readonly opened: string;
  readonly closed: string | null;
}

/** The span of a session with an opened record; null without one. */
export async function sessionSpan(
  runner: SqlRunner,
  sessionId: string,
): Promise<SessionSpan | null> {
  const summary = await summaryRow(runner, sessionId);
  return summary === undefined ? null : spanOf(summary);
}

function spanOf(row: SummaryRow): SessionSpan | null {
  if (Number(row.opens) === 0) return null;
  return { opened: row.opened_ts, closed: Number(row.closes) > 0 ? row.closed_ts : null };
}

/**
 * One session's statements in chain order (seq), after `afterSeq`. `span` (from sessionSpan) is looked
 * up when not given; callers reading page after page look it up once.
 */
export async function sessionStatements(
  runner: SqlRunner,
  sessionId: string,
  options: {
    readonly afterSeq?: number;
    readonly limit?: number;
    readonly span?: SessionSpan | null;
  } = {},
): Promise<Page<StatementRecord>> {
  const limit = pageSize({ limit: options.limit ?? MAX_PAGE });
  const where = new Where();
  where.add('session_id = {sid:String}', { sid: sessionId });
  where.add('seq > {after:UInt32}', { after: options.afterSeq ?? 0 });
  // The table is ordered by time: the session's span narrows the search to its months and granules
  // (the bloom filter on session_id does the rest). A day of margin either side keeps a statement
  // recorded across a clock step; without an opened record the whole table is searched.
  const span = options.span === undefined ? await sessionSpan(runner, sessionId) : options.span;
  if (span !== null) {
    where.add(`ts >= {span_from:${TS}} - INTERVAL 1 DAY`, { span_from: span.opened });
    if (span.closed !== null)
      where.add(`ts <= {span_to:${TS}} + INTERVAL 1 DAY`, { span_to: span.closed });
  }
  const rows = await runner.select<Record<string, unknown>>(
    `SELECT * FROM {db:Identifier}.statements${where.sql} ORDER BY seq LIMIT {limit:UInt32}`,
    { ...where.params, limit: limit + 1 },
  );
  const items = rows.slice(0, limit).map(statementFromRow);
  const last = items[items.length - 1];
  return { items, next: rows.length > limit && last !== undefined ? String(last.seq) : null };
}

/** A session's opened and closed records, in that order. */
export async function sessionEvents(
  runner: SqlRunner,
  sessionId: string,
): Promise<SessionRecord[]> {
  const rows = await runner.select<Record<string, unknown>>(
    "SELECT * FROM {db:Identifier}.session_events WHERE session_id = {sid:String} ORDER BY event = 'closed', ts",
    { sid: sessionId },
  );
  return rows.map(sessionFromRow);
}
