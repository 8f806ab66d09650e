// The auditor API: filtered, cursor-paginated statements and sessions, one session's replay timeline,
// statement counts over time and the serving bundle's active grants. Every route needs a bearer token
// of the auditor group; every caller value reaches the store as a query parameter (audit/queries.ts).

import type { Context } from 'hono';
import type { SqlRunner } from '../../audit/migrate.js';
import {
  AuditQueryError,
  listSessions,
  listStatements,
  sessionTimeline,
  statementStats,
} from '../../audit/queries.js';
import type { StatsDimension } from '../../audit/queries-stats.js';
import type { AuditOutcome } from '../../audit/record.js';
import type { Logger } from '../../lib/log.js';
import { requireGroup, type VerifyBearer } from '../auth.js';
import type { ApiRoutes } from '../create-api.js';
import { type Params, registerRoutes } from '../openapi.js';
import { ProblemError, problems } from '../problem.js';
import { AUDIT_ROUTES, DAY_S } from './audit-table.js';

export interface AuditRouteDeps {
  /** The audit store (the writer's sink); only read. */
  readonly store: SqlRunner;
  /** Verifies an OIDC access token exactly as the wire does. */
  readonly verifyBearer: VerifyBearer;
  /** Callers must belong to this group. */
  readonly auditorGroup: string;
  /** Grants of the serving bundle that are active now (grant.schema.json objects). */
  readonly activeGrants: () => readonly unknown[];
  readonly log: Logger;
  readonly now?: () => number;
}

/** Store calls: a malformed filter is the caller's 400; any other fault a logged 503. */
async function query<T>(log: Logger, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof AuditQueryError) throw problems.badRequest(err.message);
    if (err instanceof ProblemError) throw err;
    log.error('audit store query failed', { err });
    throw problems.unavailable('the audit store cannot be read now');
  }
}

const defined = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };

function statsRange(p: Params, nowMs: number) {
  const to = p.string('to') ?? new Date(nowMs).toISOString();
  const from = p.string('from') ?? new Date(Date.parse(to) - DAY_S * 1000).toISOString();
  const spanS = (Date.parse(to) - Date.parse(from)) / 1000;
  const bucket = p.integer('bucket') ?? Math.max(60, Math.ceil(spanS / 120 / 60) * 60);
  return { from, to, bucket };
}

export function auditRoutes(deps: AuditRouteDeps): ApiRoutes {
  const log = deps.log.child({ route: 'audit' });
  const now = deps.now ?? Date.now;
  const noStore = (c: Context) => c.header('cache-control', 'no-store');
  return (app) =>
    registerRoutes(
      app,
      AUDIT_ROUTES,
      {
        listStatements: async (c, p) => {
          const page = await query(log, () =>
            listStatements(
              deps.store,
              defined({
                sub: p.string('identity'),
                group: p.string('group'),
                outcome: p.list('outcome') as readonly AuditOutcome[] | undefined,
                table: p.string('table'),
                command: p.string('command'),
                from: p.string('from'),
                to: p.string('to'),
                sessionId: p.string('session'),
                text: p.string('q'),
              }),
              defined({ limit: p.integer('limit'), cursor: p.string('cursor') }),
            ),
          );
          noStore(c);
          return c.json(page);
        },
        listSessions: async (c, p) => {
          const page = await query(log, () =>
            listSessions(
              deps.store,
              defined({
                sub: p.string('identity'),
                from: p.string('from'),
                to: p.string('to'),
                state: p.string('state') as 'open' | 'closed' | undefined,
              }),
              defined({ limit: p.integer('limit'), cursor: p.string('cursor') }),
            ),
          );
          noStore(c);
          return c.json(page);
        },
        getSession: async (c, p) => {
          const id = p.string('id')!;
          const timeline = await query(log, () =>
            sessionTimeline(
              deps.store,
              id,
              defined({ afterSeq: p.integer('after'), limit: p.integer('limit') }),
            ),
          );
          if (timeline.session === null && timeline.statements.length === 0)
            throw problems.notFound(`no session "${id}" in the audit trail`);
          noStore(c);
          return c.json(timeline);
        },
        statementStats: async (c, p) => {
          const { from, to, bucket } = statsRange(p, now());
          const by = p.string('by') as StatsDimension;
          const rows = await query(log, () =>
            statementStats(deps.store, {
              from,
              to,
              bucketSeconds: bucket,
              by,
              filter: defined({
                sub: p.string('identity'),
                outcome: p.list('outcome') as readonly AuditOutcome[] | undefined,
                table: p.string('table'),
                command: p.string('command'),
              }),
            }),
          );
          noStore(c);
          return c.json({
            from: new Date(from).toISOString(),
            to: new Date(to).toISOString(),
            bucket_seconds: bucket,
            by,
            rows,
          });
        },
        listGrants: (c) => {
          noStore(c);
          return c.json({ items: deps.activeGrants() });
        },
      },
      {
        auditor: requireGroup({ verifyBearer: deps.verifyBearer, group: deps.auditorGroup, log }),
      },
    );
}
