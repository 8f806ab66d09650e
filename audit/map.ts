// Pure mapping from what the gateway observed to audit records: one statement record per statement of a
// request, and the session's opened/closed records. No clock, no I/O; the hash chain seals them later.

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

/**
 * The policy input facts for the record, field by field from the contract so nothing added later leaks
 * in unreviewed. SECURITY: facts hold no literal values except SET/set_config values, redacted here.
 */
export function auditFacts(f: ObservedFacts): Record<string, unknown> {
  return {
    sha256: f.sha256,
    fingerprint: f.fingerprint,
    index: f.index,
    count: f.count,
    command: f.command,
    reads: f.reads.map((r) => ({ schema: r.schema, table: r.table, columns: [...r.columns] })),
    writes: f.writes.map((w) => ({
      schema: w.schema,
      table: w.table,
      action: w.action,
      has_where: w.has_where,
      ...(w.columns !== undefined ? { columns: [...w.columns] } : {}),
    })),
    functions: [...f.functions],
    flags: [...f.flags],
    ...(f.settings !== undefined
      ? {
          settings: f.settings.map((s) => ({
            name: s.name,
            ...(s.value !== undefined ? { value: s.value === null ? null : REDACTED } : {}),
            ...(s.local !== undefined ? { local: s.local } : {}),
          })),
        }
      : {}),
    ...(f.objects !== undefined
      ? { objects: f.objects.map((o) => ({ kind: o.kind, name: o.name })) }
      : {}),
    estimated_rows: f.estimated_rows,
  };
}

const uniq = (xs: Iterable<string>): string[] => [...new Set(xs)];

function enforcedRules(d: ObservedDecision | undefined): string[] {
  return (d?.reasons ?? []).filter((r) => r.enforce !== false).map((r) => r.rule);
}

function shadowRules(d: ObservedDecision | undefined): string[] {
  return uniq((d?.reasons ?? []).filter((r) => r.enforce === false).map((r) => r.rule));
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
  const base = {
    ts: iso(done.startedAt),
    ...identityColumns(session),
    duration_ms: micros(done.durationMs),
    statement_form: options.statementText,
  };
  const firstSqlstate = done.results.find((r) => r.sqlstate !== null)?.sqlstate ?? null;
  const event = done.event;
  if (event === null) {
    const result = done.results[0];
    return [
      {
        ...base,
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
  return event.statements.map((s: ObservedStatement, i): UnsealedStatementRecord => {
    const decision = verdict.decisions[i];
    const result = verdict.allow ? done.results[i] : undefined;
    const sqlstate = verdict.allow ? (result?.sqlstate ?? null) : firstSqlstate;
    let outcome: AuditOutcome;
    if (!verdict.allow) outcome = deniedOutcome(verdict.outcome);
    else if (sqlstate !== null) outcome = 'error';
    else outcome = decision?.outcome === 'masked' ? 'masked' : 'allowed';
    const denialRule = verdict.allow ? [] : [verdict.denial?.rule ?? 'policy.denied'];
    return {
      ...base,
      protocol: event.protocol,
      statement_index: s.facts.index,
      statement_count: s.facts.count,
      command: s.facts.command,
      tables_read: uniq(s.facts.reads.map((r) => `${r.schema}.${r.table}`)),
      tables_written: uniq(s.facts.writes.map((w) => `${w.schema}.${w.table}`)),
      statement: options.statementText === 'raw' ? s.text : s.normalized,
      sha256: s.facts.sha256,
      fingerprint: s.facts.fingerprint,
      outcome,
      executed: result !== undefined,
      rule_ids: uniq([...enforcedRules(decision), ...denialRule]),
      would_block: shadowRules(decision),
      reason: verdict.allow ? null : (verdict.denial?.message ?? null),
      masked_columns: verdict.allow ? Object.keys(decision?.mask ?? {}).sort() : [],
      rows: result?.rows ?? null,
      sqlstate,
      bundle_revision: verdict.revision,
      grant_ids: [...(decision?.grant_ids ?? [])],
      approval_id: decision?.approval.id ?? null,
      facts: auditFacts(s.facts),
    };
  });
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
