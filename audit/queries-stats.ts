// Statement counts per time bucket, by outcome, identity, table or command, for the auditor API's charts.
// The grouping expression comes from a constant map; every caller value is a query parameter.

import type { SqlRunner } from './migrate.js';
import type { StatementFilter } from './queries.js';
import { AuditQueryError, TS, time, Where } from './query-parts.js';
import { fromChTime } from './sink.js';

export const STATS_DIMENSIONS = {
  outcome: 'outcome',
  identity: 'identity_sub',
  command: 'command',
  table: 'arrayJoin(arrayDistinct(arrayConcat(tables_read, tables_written)))',
} as const;

export type StatsDimension = keyof typeof STATS_DIMENSIONS;

export interface StatsRequest {
  /** ISO 8601, inclusive. */
  readonly from: string;
  /** ISO 8601, exclusive. */
  readonly to: string;
  readonly bucketSeconds: number;
  readonly by: StatsDimension;
  readonly filter?: Pick<StatementFilter, 'sub' | 'outcome' | 'table' | 'command'>;
}

export interface StatsRow {
  /** Start of the bucket (ISO 8601). */
  readonly bucket: string;
  readonly key: string;
  readonly count: number;
}

export const MAX_BUCKETS = 10_000;
const MAX_ROWS = 100_000;

export async function statementStats(
  runner: SqlRunner,
  request: StatsRequest,
): Promise<StatsRow[]> {
  const from = time(request.from, 'from');
  const to = time(request.to, 'to');
  const span = (Date.parse(request.to) - Date.parse(request.from)) / 1000;
  const b = request.bucketSeconds;
  if (!Number.isInteger(b) || b < 1)
    throw new AuditQueryError('bucketSeconds must be a positive integer');
  if (span <= 0 || span / b > MAX_BUCKETS)
    throw new AuditQueryError(`the range must be positive and hold at most ${MAX_BUCKETS} buckets`);
  const key = Object.hasOwn(STATS_DIMENSIONS, request.by) ? STATS_DIMENSIONS[request.by] : null;
  if (key === null) throw new AuditQueryError(`cannot group by ${String(request.by)}`);
  const w = new Where().add(`ts >= {from:${TS}}`, { from }).add(`ts < {to:${TS}}`, { to });
  const f = request.filter ?? {};
  if (f.sub !== undefined) w.add('identity_sub = {sub:String}', { sub: f.sub });
  if (f.outcome !== undefined && f.outcome.length > 0)
    w.add('outcome IN {outcomes:Array(String)}', { outcomes: [...f.outcome] });
  if (f.table !== undefined)
    w.add('(has(tables_read, {tbl:String}) OR has(tables_written, {tbl:String}))', {
      tbl: f.table,
    });
  if (f.command !== undefined)
    w.add('command = {command:String}', { command: f.command.toUpperCase() });
  const rows = await runner.select<{ bucket: string; key: string; count: number | string }>(
    `SELECT toStartOfInterval(ts, toIntervalSecond({bucket_s:UInt32})) AS bucket, ${key} AS key,
       count() AS count
     FROM {db:Identifier}.statements${w.sql}
     GROUP BY bucket, key ORDER BY bucket, key LIMIT {max_rows:UInt32}`,
    { ...w.params, bucket_s: b, max_rows: MAX_ROWS },
  );
  return rows.map((r) => ({
    bucket: fromChTime(r.bucket),
    key: String(r.key),
    count: Number(r.count),
  }));
}
