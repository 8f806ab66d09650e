// Pure mapping from what the gateway observed to audit records: one statement record per statement of a
// request, and the session's opened/closed records. No clock, no I/O; the hash chain seals them later.

import { canonicalJson } from './canonical.js';
import { registerFactsText } from './encode.js';
import type {
  ObservedDecision,
  ObservedFacts,
  ObservedRequest,
  ObservedSession,
  ObservedStatement,
  SessionCloseDetails,
  SessionOpenDetails,
} from './observed.js';
import type {
  AuditOutcome,
  SessionRecord,
  StatementForm,
  UnsealedStatementRecord,
} from './record.js';

export interface MapOptions {
  /** SECURITY: 'raw' puts literals (passwords in ALTER ROLE, tokens in WHERE) into the audit log. */
  readonly statementText: StatementForm;
}

export const REDACTED = '[redacted]';

const iso = (epochMs: number): string => new Date(epochMs).toISOString();

/** Milliseconds rounded to the microsecond, so the value survives a Float64 column unchanged. */
const micros = (ms: number): number => Math.max(0, Math.round(ms * 1000) / 1000);

function identityColumns(s: ObservedSession) {
  return {
    session_id: s.id,
    identity_sub: s.identity.sub,
    identity_groups: [...s.identity.groups],
    identity_issuer: s.identity.issuer,
    identity_via: s.identity.via,
    client_addr: s.clientAddr,
    application_name: s.applicationName,
    database: s.database,
  };
}

/** An audit copy of a facts part, and its canonical JSON; parts are shared by a statement's repeats. */
interface FactsPart {
  readonly value: unknown;
  readonly json: string;
}

// Keyed by the analyzer's own (immutable) arrays: repeats of a cached statement share them.
const parts = new WeakMap<object, FactsPart>();

function part<T extends object>(source: T, copy: (source: T) => unknown): FactsPart {
  let hit = parts.get(source);
  if (hit === undefined) {
    const value = copy(source);
    hit = { value, json: canonicalJson(value) };
    parts.set(source, hit);
  }
  return hit;
}

const copyReads = (reads: ObservedFacts['reads']) =>
  reads.map((r) => ({ schema: r.schema, table: r.table, columns: [...r.columns] }));

const copyWrites = (writes: ObservedFacts['writes']) =>
  writes.map((w) => ({
    schema: w.schema,
    table: w.table,
    action: w.action,
    has_where: w.has_where,
    ...(w.columns !== undefined ? { columns: [...w.columns] } : {}),
  }));

const copyStrings = (xs: readonly string[]) => [...xs];

const copySettings = (settings: NonNullable<ObservedFacts['settings']>) =>
  settings.map((s) => ({
    name: s.name,
    ...(s.value !== undefined ? { value: s.value === null ? null : REDACTED } : {}),
    ...(s.local !== undefined ? { local: s.local } : {}),
  }));

const copyObjects = (objects: NonNullable<ObservedFacts['objects']>) =>
  objects.map((o) => ({ kind: o.kind, name: o.name }));

/**
 * The policy input facts for the record, field by field from the contract so nothing added later leaks
 * in unreviewed. SECURITY: facts hold no literal values except SET/set_config values, redacted here.
 * The result's canonical JSON is registered with the encoder (see factsText), built from cached parts.
 */
export function auditFacts(f: ObservedFacts): Record<string, unknown> {
  const reads = part(f.reads, copyReads);
  const writes = part(f.writes, copyWrites);
  const functions = part(f.functions, copyStrings);
  const flags = part(f.flags, copyStrings);
  const settings = f.settings === undefined ? undefined : part(f.settings, copySettings);
  const objects = f.objects === undefined ? undefined : part(f.objects, copyObjects);
  const facts: Record<string, unknown> = {
    sha256: f.sha256,
    fingerprint: f.fingerprint,
    index: f.index,
    count: f.count,
    command: f.command,
    reads: reads.value,
    writes: writes.value,
    functions: functions.value,
    flags: flags.value,
    ...(settings !== undefined ? { settings: settings.value } : {}),
    ...(objects !== undefined ? { objects: objects.value } : {}),
    estimated_rows: f.estimated_rows,
  };
  // Keys in code-unit order, as canonicalJson writes them (encode.test.ts holds the two equal).
  registerFactsText(
    facts,
    `{"command":${JSON.stringify(f.command)},"count":${canonicalJson(f.count)}` +
      `,"estimated_rows":${canonicalJson(f.estimated_rows)}` +
      `,"fingerprint":${JSON.stringify(f.fingerprint)},"flags":${flags.json}` +
      `,"functions":${functions.json},"index":${canonicalJson(f.index)}` +
      (objects !== undefined ? `,"objects":${objects.json}` : '') +
      `,"reads":${reads.json}` +
      (settings !== undefined ? `,"settings":${settings.json}` : '') +
      `,"sha256":${JSON.stringify(f.sha256)},"writes":${writes.json}}`,
  );
  return facts;
}

const uniq = (xs: readonly string[]): string[] =>
  xs.length < 2 ? [...xs] : xs.filter((x, i) => xs.indexOf(x) === i);

function enforcedRules(d: ObservedDecision | undefined): string[] {
  const out: string[] = [];
  if (d !== undefined) for (const r of d.reasons) if (r.enforce !== false) out.push(r.rule);
  return out;
}

function shadowRules(d: ObservedDecision | undefined): string[] {
  const out: string[] = [];
  if (d !== undefined)
    for (const r of d.reasons) if (r.enforce === false && !out.includes(r.rule)) out.push(r.rule);
  return out;
}

function deniedOutcome(verdictOutcome: string): AuditOutcome {
  return verdictOutcome === 'approval_required' ? 'approval_required' : 'blocked';
}

/** One record per statement of the request, in statement order. */
export function toStatementRecords(
  session: ObservedSession,
  done: ObservedRequest,
  options: MapOptions,
): UnsealedStatementRecord[] {
  const ts = iso(done.startedAt);
  const durationMs = micros(done.durationMs);
  const groups = [...session.identity.groups];
  let firstSqlstate: string | null = null;
  for (const r of done.results) {
    if (r.sqlstate !== null) {
      firstSqlstate = r.sqlstate;
      break;
    }
  }
  const event = done.event;
  if (event === null) {
    // A request passed without judging it (rare): no facts, no decision.
    const result = done.results[0];
    return [
      {
        ts,
        ...identityColumns(session),
        duration_ms: durationMs,
        statement_form: options.statementText,
        protocol: 'unknown',
        statement_index: 0,
        statement_count: 0,
        command: 'UNKNOWN',
        tables_read: [],
        tables_written: [],
        statement: '',
        sha256: '',
        fingerprint: '',
        outcome: firstSqlstate === null ? 'allowed' : 'error',
        executed: result !== undefined,
        rule_ids: [],
        would_block: [],
        reason: null,
        masked_columns: [],
        rows: result?.rows ?? null,
        sqlstate: firstSqlstate,
        bundle_revision: null,
        grant_ids: [],
        approval_id: null,
        facts: null,
      },
    ];
  }
  const { verdict } = event;
  const out: UnsealedStatementRecord[] = [];
  for (let i = 0; i < event.statements.length; i++) {
    const s = event.statements[i] as ObservedStatement;
    const decision = verdict.decisions[i];
    const result = verdict.allow ? done.results[i] : undefined;
    const sqlstate = verdict.allow ? (result?.sqlstate ?? null) : firstSqlstate;
    let outcome: AuditOutcome;
    if (!verdict.allow) outcome = deniedOutcome(verdict.outcome);
    else if (sqlstate !== null) outcome = 'error';
    else outcome = decision?.outcome === 'masked' ? 'masked' : 'allowed';
    const enforced = enforcedRules(decision);
    if (!verdict.allow) enforced.push(verdict.denial?.rule ?? 'policy.denied');
    // One object literal with every field in one order: the hot path builds no spreads.
    out.push({
      ts,
      session_id: session.id,
      identity_sub: session.identity.sub,
      identity_groups: groups,
      identity_issuer: session.identity.issuer,
      identity_via: session.identity.via,
      client_addr: session.clientAddr,
      application_name: session.applicationName,
      database: session.database,
      duration_ms: durationMs,
      statement_form: options.statementText,
      protocol: event.protocol,
      statement_index: s.facts.index,
      statement_count: s.facts.count,
      command: s.facts.command,
      tables_read: tableNames(s.facts.reads),
      tables_written: tableNames(s.facts.writes),
      statement: options.statementText === 'raw' ? s.text : s.normalized,
      sha256: s.facts.sha256,
      fingerprint: s.facts.fingerprint,
      outcome,
      executed: result !== undefined,
      rule_ids: uniq(enforced),
      would_block: shadowRules(decision),
      reason: verdict.allow ? null : (verdict.denial?.message ?? null),
      masked_columns: verdict.allow ? Object.keys(decision?.mask ?? {}).sort() : [],
      rows: result?.rows ?? null,
      sqlstate,
      bundle_revision: verdict.revision,
      grant_ids: decision === undefined ? [] : [...decision.grant_ids],
      approval_id: decision?.approval.id ?? null,
      facts: auditFacts(s.facts),
    });
  }
  return out;
}

/** schema.table of each entry, first occurrence first. */
function tableNames(entries: readonly { readonly schema: string; readonly table: string }[]) {
  const out: string[] = [];
  for (const e of entries) {
    const name = `${e.schema}.${e.table}`;
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

export function toSessionOpened(
  session: ObservedSession,
  details: SessionOpenDetails,
  nowMs: number,
): SessionRecord {
  return {
    ts: iso(nowMs),
    ...identityColumns(session),
    event: 'opened',
    tls: details.tls,
    reason: null,
    sqlstate: null,
    bytes_in: 0,
    bytes_out: 0,
    statement_count: 0,
    last_hash: null,
  };
}

export function toSessionClosed(
  session: ObservedSession,
  details: SessionCloseDetails & { readonly tls: boolean },
  chain: { readonly count: number; readonly lastHash: string },
  nowMs: number,
): SessionRecord {
  return {
    ts: iso(nowMs),
    ...identityColumns(session),
    event: 'closed',
    tls: details.tls,
    reason: details.reason,
    sqlstate: details.sqlstate,
    bytes_in: details.bytesIn,
    bytes_out: details.bytesOut,
    statement_count: chain.count,
    last_hash: chain.lastHash,
  };
}
