// Turns the arguments of `pgward request` (subject, tables with actions, ttl, reason) into a grant
// file (schemas/grant.schema.json) and its id `<date>-<subject>-<tables>`. Pure: no git, no clock.

import type { Grant } from '../contracts.js';
import { PolicyRepoError } from './errors.js';

export const GRANT_ACTIONS = ['select', 'insert', 'update', 'delete', 'truncate', 'copy'] as const;
export type GrantAction = (typeof GRANT_ACTIONS)[number];

export interface GrantObject {
  readonly schema: string;
  readonly table: string;
  readonly actions: readonly GrantAction[];
}

export interface GrantRequest {
  /** `svc-agent` (a token's sub) or `group:analytics`. */
  readonly subject: string;
  readonly database: string;
  /** `public.orders:select,insert`; a table without a schema is in `public`. */
  readonly tables: readonly string[];
  /** `90s`, `30m`, `2h`, `1d`, `1h30m`. */
  readonly ttl: string;
  readonly reason: string;
  readonly requester: string;
  readonly ticket?: string;
}

const MAX_ID = 128;
const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const invalid = (message: string): PolicyRepoError =>
  new PolicyRepoError('PGW_REPO_REQUEST_INVALID', message);

/** Milliseconds of a duration like `2h` or `1h30m` (whole seconds, at least one second). */
export function parseTtl(text: string): number {
  const trimmed = text.trim();
  if (!/^(\d+[smhd])+$/.test(trimmed))
    throw invalid(`--ttl "${text}" is not a duration like 90s, 30m, 2h, 1d or 1h30m`);
  let ms = 0;
  for (const m of trimmed.matchAll(/(\d+)([smhd])/g)) ms += Number(m[1]) * UNITS[m[2]!]!;
  if (!(ms >= 1000) || !Number.isSafeInteger(ms)) throw invalid(`--ttl "${text}" is out of range`);
  return ms;
}

export function parseSubject(text: string): Grant['subject'] {
  const value = text.trim();
  if (value.startsWith('group:')) {
    const group = value.slice('group:'.length);
    if (group === '') throw invalid('--subject group: needs a group name');
    return { group };
  }
  if (value === '') throw invalid('--subject is empty');
  return { sub: value };
}

/** `schema.table:action[,action]` → one grant object. */
export function parseTableSpec(text: string): GrantObject {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) throw invalid(`--table "${text}" must look like public.orders:select[,insert]`);
  const name = text.slice(0, colon).trim();
  const dot = name.indexOf('.');
  const schema = dot < 0 ? 'public' : name.slice(0, dot);
  const table = dot < 0 ? name : name.slice(dot + 1);
  if (schema === '' || table === '' || table.includes('.'))
    throw invalid(`--table "${text}": "${name}" is not schema.table`);
  const actions = text
    .slice(colon + 1)
    .split(',')
    .map((a) => a.trim().toLowerCase());
  for (const a of actions) {
    if (!(GRANT_ACTIONS as readonly string[]).includes(a))
      throw invalid(`--table "${text}": "${a}" is not one of ${GRANT_ACTIONS.join(', ')}`);
  }
  return { schema, table, actions: [...new Set(actions)] as GrantAction[] };
}

/** Lower-case, id-safe form of a name (`alice@example.com` → `alice-example.com`). */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-._]+|[-._]+$/g, '');
}

/**
 * `<date>-<subject>-<tables>`, unique among `taken` (a `-2`, `-3`, … suffix), at most 128
 * characters, matching the grant schema's id pattern.
 */
export function grantId(
  date: Date,
  subject: Grant['subject'],
  objects: readonly GrantObject[],
  taken: (id: string) => boolean,
): string {
  const who = 'sub' in subject ? slug(subject.sub) : `group-${slug(subject.group)}`;
  const tables = [...new Set(objects.map((o) => slug(o.table)))].join('-');
  const base = [date.toISOString().slice(0, 10), who, tables]
    .filter((part) => part !== '')
    .join('-')
    .slice(0, MAX_ID - 4)
    .replace(/[-._]+$/, '');
  for (let n = 1; n < 1000; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    if (!taken(id)) return id;
  }
  throw invalid(`no free grant id for ${base}`);
}

/** UTC with whole seconds, the form the grant schema requires. */
export function utcSecond(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** The grant file for a request made at `now`: valid from now (to the second) for the ttl. */
export function buildGrant(
  request: GrantRequest,
  now: Date,
  taken: (id: string) => boolean,
): Grant & { readonly $schema: string } {
  if (request.tables.length === 0) throw invalid('at least one --table is required');
  if (request.reason.trim() === '') throw invalid('--reason is required');
  if (request.requester.trim() === '') throw invalid('--requester is required');
  if (request.database.trim() === '') throw invalid('--database is required');
  const subject = parseSubject(request.subject);
  const objects = request.tables.map(parseTableSpec);
  const ttl = parseTtl(request.ttl);
  const start = Math.floor(now.getTime() / 1000) * 1000;
  return {
    $schema: 'https://pgward.dev/schemas/grant.schema.json',
    id: grantId(now, subject, objects, taken),
    subject,
    database: request.database,
    objects,
    not_before: utcSecond(start),
    expires_at: utcSecond(start + ttl),
    reason: request.reason.trim(),
    requester: request.requester.trim(),
    ...(request.ticket !== undefined ? { ticket: request.ticket } : {}),
  };
}
