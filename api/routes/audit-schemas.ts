// Response schemas of the auditor API. Records are the contract in schemas/audit-record.schema.json and
// grants the one in schemas/grant.schema.json, lifted into the OpenAPI components unchanged.

import auditRecordSchema from '../../schemas/audit-record.schema.json' with { type: 'json' };
import grantSchema from '../../schemas/grant.schema.json' with { type: 'json' };
import { componentsFrom, type JsonSchema } from '../openapi.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (type: string) => ({ type: [type, 'null'] });
const strings = { type: 'array', items: { type: 'string' } };

const SESSION_SUMMARY: JsonSchema = {
  type: 'object',
  description: "A session's opened and closed records folded into one row.",
  additionalProperties: false,
  required: [
    'session_id',
    'opened_at',
    'closed_at',
    'identity_sub',
    'identity_groups',
    'identity_issuer',
    'identity_via',
    'client_addr',
    'application_name',
    'database',
    'tls',
    'reason',
    'sqlstate',
    'bytes_in',
    'bytes_out',
    'statement_count',
    'last_hash',
  ],
  properties: {
    session_id: { type: 'string' },
    opened_at: { type: 'string', format: 'date-time' },
    closed_at: { ...nullable('string'), description: 'null while the session is open.' },
    identity_sub: { type: 'string' },
    identity_groups: strings,
    identity_issuer: { type: 'string' },
    identity_via: ref('AuditRecordVia'),
    client_addr: { type: 'string' },
    application_name: { type: 'string' },
    database: { type: 'string' },
    tls: { type: 'boolean' },
    reason: nullable('string'),
    sqlstate: nullable('string'),
    bytes_in: nullable('integer'),
    bytes_out: nullable('integer'),
    statement_count: nullable('integer'),
    last_hash: nullable('string'),
  },
};

const page = (item: string, description: string): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: false,
  required: ['items', 'next'],
  properties: {
    items: { type: 'array', items: ref(item) },
    next: {
      ...nullable('string'),
      description: 'Pass as `cursor` for the following page; null on the last page.',
    },
  },
});

export const AUDIT_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  ...componentsFrom(auditRecordSchema, 'AuditRecord'),
  ...componentsFrom(grantSchema, 'Grant'),
  SessionSummary: SESSION_SUMMARY,
  StatementPage: page('AuditRecordStatementRecord', 'Statements, newest first.'),
  SessionPage: page('SessionSummary', 'Sessions by the time they opened, newest first.'),
  SessionTimeline: {
    type: 'object',
    description: 'One session for replay: its summary and its statements in chain order (seq).',
    additionalProperties: false,
    required: ['session', 'statements', 'next'],
    properties: {
      session: { oneOf: [ref('SessionSummary'), { type: 'null' }] },
      statements: { type: 'array', items: ref('AuditRecordStatementRecord') },
      next: {
        ...nullable('string'),
        description: 'Pass as `after` for the rest of a long session; null when complete.',
      },
    },
  },
  Stats: {
    type: 'object',
    additionalProperties: false,
    required: ['from', 'to', 'bucket_seconds', 'by', 'rows'],
    properties: {
      from: { type: 'string', format: 'date-time' },
      to: { type: 'string', format: 'date-time' },
      bucket_seconds: { type: 'integer', minimum: 1 },
      by: { enum: ['outcome', 'identity', 'table', 'command'] },
      rows: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['bucket', 'key', 'count'],
          properties: {
            bucket: { type: 'string', format: 'date-time', description: 'Start of the bucket.' },
            key: { type: 'string' },
            count: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
  },
  Grants: {
    type: 'object',
    additionalProperties: false,
    required: ['items'],
    properties: { items: { type: 'array', items: ref('Grant') } },
  },
  Health: {
    type: 'object',
    required: ['status', 'bundle_revision', 'store'],
    properties: {
      status: { enum: ['ok', 'degraded', 'down'] },
      bundle_revision: nullable('string'),
      store: { type: 'string', description: 'State of the audit store.' },
    },
  },
};
