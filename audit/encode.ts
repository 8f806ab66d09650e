// Records as text, written field by field because their shapes are fixed: the canonical JSON a statement's
// hash covers (what canonicalJson gives for the record, without walking and sorting its keys) and the
// JSONCompactEachRow line each table stores (its columns in DDL order; see STATEMENT_COLUMNS).

import { canonicalJson } from './canonical.js';
import type { SessionRecord, StatementRecord, UnsealedStatementRecord } from './record.js';

/** Who and where: the columns both tables carry after their first three, in this order. */
const SESSION_PARTY = [
  'identity_sub',
  'identity_groups',
  'identity_issuer',
  'identity_via',
  'client_addr',
  'application_name',
  'database',
] as const satisfies readonly (keyof StatementRecord & keyof SessionRecord)[];

/** The statements table's columns in the order of a row line (schemas/clickhouse/001_init.sql). */
export const STATEMENT_COLUMNS = [
  'ts',
  'session_id',
  'seq',
  ...SESSION_PARTY,
  'protocol',
  'statement_index',
  'statement_count',
  'command',
  'tables_read',
  'tables_written',
  'statement',
  'statement_form',
  'sha256',
  'fingerprint',
  'outcome',
  'executed',
  'rule_ids',
  'would_block',
  'reason',
  'masked_columns',
  'rows',
  'duration_ms',
  'sqlstate',
  'bundle_revision',
  'grant_ids',
  'approval_id',
  'facts',
  'prev_hash',
  'hash',
] as const satisfies readonly (keyof StatementRecord)[];

/** The session_events table's columns in the order of a row line. */
export const SESSION_COLUMNS = [
  'ts',
  'session_id',
  'event',
  ...SESSION_PARTY,
  'tls',
  'reason',
  'sqlstate',
  'bytes_in',
  'bytes_out',
  'statement_count',
  'last_hash',
] as const satisfies readonly (keyof SessionRecord)[];

/** ISO 8601 (…T…Z) → the DateTime64 text form ClickHouse parses without best-effort settings. */
export const toChTime = (iso: string): string => iso.replace('T', ' ').replace('Z', '');

const str = (value: string): string => JSON.stringify(value);

/**
 * JSON.stringify for the values that repeat from record to record (session fields, commands, normalized
 * statements, table names): a bounded memo, emptied when full.
 */
const escaped = new Map<string, string>();
const MEMO_ENTRIES = 8192;
const MEMO_LENGTH = 512;

function esc(value: string): string {
  if (value.length > MEMO_LENGTH) return JSON.stringify(value);
  let out = escaped.get(value);
  if (out === undefined) {
    if (escaped.size >= MEMO_ENTRIES) escaped.clear();
    out = JSON.stringify(value);
    escaped.set(value, out);
  }
  return out;
}

const escOrNull = (value: string | null): string => (value === null ? 'null' : esc(value));
const strOrNull = (value: string | null): string =>
  value === null ? 'null' : JSON.stringify(value);

function num(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no non-finite numbers');
  return JSON.stringify(value);
}

const numOrNull = (value: number | null): string => (value === null ? 'null' : num(value));

function strings(values: readonly string[]): string {
  if (values.length === 0) return '[]';
  let out = '[';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + esc(values[i] as string);
  return `${out}]`;
}

/**
 * canonicalJson({...r, seq}) — a statement record without prev_hash and hash — keys in code-unit order:
 * the text sealStatement hashes after the previous hash (tested equal to canonicalJson).
 */
export function canonicalStatement(r: UnsealedStatementRecord, seq: number): string {
  let text = '';
  sealStatement(r, seq, '', (canonical) => {
    text = canonical;
    return '';
  });
  return text;
}

/** Canonical JSON of facts objects built by the mapping, which writes it from cached parts. */
const factsTexts = new WeakMap<object, string>();

/** Records `text` as canonicalJson(facts); `facts` must not change afterwards (records are immutable). */
export function registerFactsText(facts: object, text: string): void {
  factsTexts.set(facts, text);
}

/** The facts as canonical JSON (`null` when the statement was not judged). */
export const factsJson = (r: Pick<StatementRecord, 'facts'>): string =>
  r.facts === null ? 'null' : (factsTexts.get(r.facts) ?? canonicalJson(r.facts));

/** A sealed statement record as one JSONCompactEachRow line (its own hash, not recomputed). */
export const statementLine = (r: StatementRecord): string =>
  sealStatement(r, r.seq, r.prev_hash, () => r.hash).line;

/** A record placed in its chain: the hash it carries and its table line. */
export interface SealedLine {
  readonly hash: string;
  readonly line: string;
}

/**
 * Places `r` at `seq` after `prevHash`: hashes its canonical JSON with `hashHex` and writes its line,
 * each field escaped once for both. The facts are stored as their canonical JSON text.
 */
export function sealStatement(
  r: UnsealedStatementRecord,
  seq: number,
  prevHash: string,
  hashHex: (text: string) => string,
): SealedLine {
  const facts = factsJson(r);
  const ts = str(r.ts);
  const sessionId = esc(r.session_id);
  const sub = esc(r.identity_sub);
  const groups = strings(r.identity_groups);
  const issuer = esc(r.identity_issuer);
  const via = esc(r.identity_via);
  const addr = esc(r.client_addr);
  const app = esc(r.application_name);
  const database = esc(r.database);
  const protocol = esc(r.protocol);
  const index = num(r.statement_index);
  const count = num(r.statement_count);
  const command = esc(r.command);
  const read = strings(r.tables_read);
  const written = strings(r.tables_written);
  const statement = esc(r.statement);
  const form = esc(r.statement_form);
  const sha = str(r.sha256);
  const fingerprint = esc(r.fingerprint);
  const outcome = esc(r.outcome);
  const rules = strings(r.rule_ids);
  const wouldBlock = strings(r.would_block);
  const reason = escOrNull(r.reason);
  const masked = strings(r.masked_columns);
  const rows = numOrNull(r.rows);
  const duration = num(r.duration_ms);
  const sqlstate = escOrNull(r.sqlstate);
  const revision = escOrNull(r.bundle_revision);
  const grants = strings(r.grant_ids);
  const approval = escOrNull(r.approval_id);
  const seqText = num(seq);
  const hash = hashHex(
    `${prevHash}{"application_name":${app},"approval_id":${approval},"bundle_revision":${revision}` +
      `,"client_addr":${addr},"command":${command},"database":${database},"duration_ms":${duration}` +
      `,"executed":${r.executed},"facts":${facts},"fingerprint":${fingerprint},"grant_ids":${grants}` +
      `,"identity_groups":${groups},"identity_issuer":${issuer},"identity_sub":${sub}` +
      `,"identity_via":${via},"masked_columns":${masked},"outcome":${outcome},"protocol":${protocol}` +
      `,"reason":${reason},"rows":${rows},"rule_ids":${rules},"seq":${seqText}` +
      `,"session_id":${sessionId},"sha256":${sha},"sqlstate":${sqlstate},"statement":${statement}` +
      `,"statement_count":${count},"statement_form":${form},"statement_index":${index}` +
      `,"tables_read":${read},"tables_written":${written},"ts":${ts},"would_block":${wouldBlock}}`,
  );
  const line =
    `[${str(toChTime(r.ts))},${sessionId},${seqText},${sub},${groups},${issuer},${via},${addr}` +
    `,${app},${database},${protocol},${index},${count},${command},${read},${written},${statement}` +
    `,${form},${sha},${fingerprint},${outcome},${r.executed},${rules},${wouldBlock},${reason}` +
    `,${masked},${rows},${duration},${sqlstate},${revision},${grants},${approval}` +
    `,${str(facts === 'null' ? '' : facts)},${str(prevHash)},${str(hash)}]`;
  return { hash, line };
}

/** A session record as one JSONCompactEachRow line. */
export function sessionLine(r: SessionRecord): string {
  return (
    `[${str(toChTime(r.ts))},${str(r.session_id)},${str(r.event)},${str(r.identity_sub)}` +
    `,${strings(r.identity_groups)},${str(r.identity_issuer)},${str(r.identity_via)}` +
    `,${str(r.client_addr)},${str(r.application_name)},${str(r.database)},${r.tls}` +
    `,${strOrNull(r.reason)},${strOrNull(r.sqlstate)},${num(r.bytes_in)},${num(r.bytes_out)}` +
    `,${num(r.statement_count)},${strOrNull(r.last_hash)}]`
  );
}
