// The auditor API's route table: paths, parameters and response schemas. It registers the routes
// (audit.ts) and generates the OpenAPI document (audit-ops.ts), so the two cannot drift.

import { MAX_PAGE } from '../../audit/queries.js';
import { STATS_DIMENSIONS } from '../../audit/queries-stats.js';
import { AUDIT_OUTCOMES } from '../../audit/record.js';
import type { ParamSpec, RouteSpec } from '../openapi.js';

export const DAY_S = 86_400;
const q = (name: string, description: string, maxLength = 256): ParamSpec => ({
  name,
  in: 'query',
  description,
  type: 'string',
  maxLength,
});
const time = (name: string, description: string): ParamSpec => ({
  name,
  in: 'query',
  description,
  type: 'string',
  maxLength: 40,
  format: 'date-time',
});
const LIMIT: ParamSpec = {
  name: 'limit',
  in: 'query',
  description: 'Items per page.',
  type: 'integer',
  minimum: 1,
  maximum: MAX_PAGE,
  default: 100,
};
const CURSOR = q('cursor', 'The `next` of the previous page.', 1024);
const IDENTITY = q('identity', 'Identity subject (exact).');
const OUTCOME: ParamSpec = {
  name: 'outcome',
  in: 'query',
  description: 'Outcomes, comma-separated.',
  type: 'enum-list',
  values: AUDIT_OUTCOMES,
};
const TABLE = q('table', 'schema.table read or written.');
const COMMAND = q('command', 'Command tag (SELECT, UPDATE, ...).', 64);
const schema = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string, description: string) => ({
  description,
  contentType: 'application/json',
  schema: schema(name),
});

export const AUDIT_ROUTES = [
  {
    method: 'get',
    path: '/v1/statements',
    operationId: 'listStatements',
    summary: 'Statement records, newest first, filtered and cursor-paginated.',
    tag: 'audit',
    access: 'auditor',
    params: [
      IDENTITY,
      q('group', 'A group the identity had.'),
      OUTCOME,
      TABLE,
      COMMAND,
      time('from', 'Inclusive lower bound of ts.'),
      time('to', 'Exclusive upper bound of ts.'),
      q('session', 'Session id.'),
      q('q', 'Case-insensitive substring of the recorded statement text.', 1000),
      LIMIT,
      CURSOR,
    ],
    response: json('StatementPage', 'One page of statements.'),
  },
  {
    method: 'get',
    path: '/v1/sessions',
    operationId: 'listSessions',
    summary: 'Sessions by the time they opened, newest first, cursor-paginated.',
    tag: 'audit',
    access: 'auditor',
    params: [
      IDENTITY,
      time('from', 'Opened at or after.'),
      time('to', 'Opened before.'),
      {
        name: 'state',
        in: 'query',
        description: 'open or closed.',
        type: 'enum',
        values: ['open', 'closed'],
      },
      LIMIT,
      CURSOR,
    ],
    response: json('SessionPage', 'One page of sessions.'),
  },
  {
    method: 'get',
    path: '/v1/sessions/{id}',
    operationId: 'getSession',
    summary:
      "One session's replay timeline: its statements in order with timing, outcome and rows.",
    tag: 'audit',
    access: 'auditor',
    params: [
      { name: 'id', in: 'path', description: 'Session id.', type: 'string', maxLength: 256 },
      {
        name: 'after',
        in: 'query',
        description: 'Only statements after this seq (the `next` of the previous part).',
        type: 'integer',
        minimum: 0,
        maximum: 4_294_967_295,
      },
      { ...LIMIT, default: MAX_PAGE },
    ],
    response: json('SessionTimeline', 'The session and (part of) its timeline.'),
    errors: [404],
  },
  {
    method: 'get',
    path: '/v1/stats',
    operationId: 'statementStats',
    summary: 'Statement counts per time bucket, by outcome, identity, table or command.',
    tag: 'audit',
    access: 'auditor',
    params: [
      time('from', 'Inclusive start; default 24 hours before `to`.'),
      time('to', 'Exclusive end; default now.'),
      {
        name: 'bucket',
        in: 'query',
        description: 'Bucket width in seconds; default about 1/120 of the range (at least 60).',
        type: 'integer',
        minimum: 1,
        maximum: 366 * DAY_S,
      },
      {
        name: 'by',
        in: 'query',
        description: 'What each row counts by.',
        type: 'enum',
        values: Object.keys(STATS_DIMENSIONS),
        default: 'outcome',
      },
      IDENTITY,
      OUTCOME,
      TABLE,
      COMMAND,
    ],
    response: json('Stats', 'Counts per bucket and key.'),
  },
  {
    method: 'get',
    path: '/v1/grants',
    operationId: 'listGrants',
    summary: 'Grants of the serving policy bundle that are active now.',
    tag: 'audit',
    access: 'auditor',
    response: json('Grants', 'The active grants.'),
  },
] as const satisfies readonly RouteSpec[];
