// The audit records as TypeScript: a mirror of schemas/audit-record.schema.json (kept in sync by
// record.test.ts, which validates mapped records against the schema). Fields are ClickHouse columns.

export const AUDIT_OUTCOMES = [
  'allowed',
  'masked',
  'blocked',
  'approval_required',
  'error',
] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export type IdentityVia = 'jwt' | 'introspection' | 'credential' | 'password';
export type StatementForm = 'normalized' | 'raw';
export type AuditProtocol = 'simple' | 'extended' | 'function' | 'unknown';

/** @see schemas/audit-record.schema.json `definitions.statementRecord` */
export interface StatementRecord {
  readonly ts: string;
  readonly session_id: string;
  readonly seq: number;
  readonly identity_sub: string;
  readonly identity_groups: readonly string[];
  readonly identity_issuer: string;
  readonly identity_via: IdentityVia;
  readonly client_addr: string;
  readonly application_name: string;
  readonly database: string;
  readonly protocol: AuditProtocol;
  readonly statement_index: number;
  readonly statement_count: number;
  readonly command: string;
  readonly tables_read: readonly string[];
  readonly tables_written: readonly string[];
  readonly statement: string;
  readonly statement_form: StatementForm;
  readonly sha256: string;
  readonly fingerprint: string;
  readonly outcome: AuditOutcome;
  readonly executed: boolean;
  readonly rule_ids: readonly string[];
  readonly would_block: readonly string[];
  readonly reason: string | null;
  readonly masked_columns: readonly string[];
  readonly rows: number | null;
  readonly duration_ms: number;
  readonly sqlstate: string | null;
  readonly bundle_revision: string | null;
  readonly grant_ids: readonly string[];
  readonly approval_id: string | null;
  /** The statement's policy-input facts, settings values redacted; null when not judged. */
  readonly facts: Readonly<Record<string, unknown>> | null;
  readonly prev_hash: string;
  readonly hash: string;
}

/** A statement record before the hash chain has placed it (seq and hashes are the chain's). */
export type UnsealedStatementRecord = Omit<StatementRecord, 'seq' | 'prev_hash' | 'hash'>;

export type SessionEvent = 'opened' | 'closed';

/** @see schemas/audit-record.schema.json `definitions.sessionRecord` */
export interface SessionRecord {
  readonly ts: string;
  readonly session_id: string;
  readonly event: SessionEvent;
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
  readonly bytes_in: number;
  readonly bytes_out: number;
  readonly statement_count: number;
  /** Head of the statement chain at close (sha256(session_id) when empty); null when opened. */
  readonly last_hash: string | null;
}

/**
 * What one writer batch carries: rows for both tables as JSONCompactEachRow lines (audit/encode.ts),
 * each followed by a newline, inserted under one deduplication token.
 */
export interface AuditRows {
  readonly statements: Buffer;
  readonly sessions: Buffer;
  /** Rows in both tables. */
  readonly rows: number;
}

/** One row handed to the writer: a record already encoded as its table's line. */
export interface AuditEntry {
  readonly table: 'statements' | 'sessions';
  readonly row: string;
}
