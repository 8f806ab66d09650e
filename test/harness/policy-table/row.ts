// One row of the policy acceptance table: a statement, who runs it under which policy, and what the
// gateway must answer (allowed, or refused with 42501 naming the rule).

export type Outcome = 'allowed' | 'blocked' | 'approval_required';

/** `strict` is the template's guardrails; `lax` drops guardrail.sql_prepare and guardrail.search_path. */
export type PolicyName = 'strict' | 'lax';
export type RowUser = 'agent' | 'ops';
export type ExternalDriver = 'psql' | 'postgres.js' | 'psycopg';

export interface PolicyRow {
  /** Unique, stable slug (used as the test name and by `after`). */
  readonly id: string;
  readonly sql: string;
  readonly expect: Outcome;
  /** The rule id the denial names (`... (rule <id>)`); required unless allowed. */
  readonly rule?: string;
  /** Default `agent` (svc-agent, group analytics); `ops` is svc-ops in group ops. */
  readonly user?: RowUser;
  /** Default `strict`. */
  readonly policy?: PolicyName;
  /** Several statements in one string: one simple Query (psql would split it, so it skips the row). */
  readonly multi?: true;
  /** One statement sent as a simple Query even by drivers that default to the extended protocol. */
  readonly simple?: true;
  /** An allowed statement that changes the fixture tables (kept out of the external drivers' subsets). */
  readonly mutates?: true;
  /** An allowed statement that must still leave the database unchanged (EXPLAIN of a DELETE, ...). */
  readonly unchanged?: true;
  /** Runs through psql, postgres.js and psycopg too (with the rows named in `after`). */
  readonly subset?: true;
  /** External drivers that cannot express this row, with the reason. */
  readonly skip?: Partial<Readonly<Record<ExternalDriver, string>>>;
  /** Rows that must run earlier on the same connection (session state this row relies on). */
  readonly after?: readonly string[];
  /** Server paths that must not exist afterwards (COPY TO file, COPY PROGRAM). */
  readonly absentFiles?: readonly string[];
  /**
   * A confirmed gateway bug: the row keeps its correct expectation and is registered with `it.fails`.
   * The text says what happens instead.
   */
  readonly bug?: string;
  /** A confirmed bug seen only over the extended protocol (registered with `it.fails` there). */
  readonly extendedBug?: string;
  readonly note?: string;
}

export const allowed = (id: string, sql: string, extra: Partial<PolicyRow> = {}): PolicyRow => ({
  id,
  sql,
  expect: 'allowed',
  ...extra,
});

export const blocked = (
  id: string,
  sql: string,
  rule: string,
  extra: Partial<PolicyRow> = {},
): PolicyRow => ({ id, sql, expect: 'blocked', rule, ...extra });

export const needsApproval = (
  id: string,
  sql: string,
  rule: string,
  extra: Partial<PolicyRow> = {},
): PolicyRow => ({ id, sql, expect: 'approval_required', rule, user: 'ops', ...extra });

/** Whether a driver must send the row as a simple Query. */
export const needsSimple = (row: PolicyRow): boolean => row.multi === true || row.simple === true;

/** The connection a row runs on: one per policy and identity, rows in table order. */
export function sessionOf(row: PolicyRow): `${PolicyName}/${RowUser}` {
  return `${row.policy ?? 'strict'}/${row.user ?? 'agent'}`;
}

/** What a driver observed for one statement string. */
export interface RowResult {
  readonly ok: boolean;
  readonly sqlstate: string | null;
  readonly message: string | null;
  /** The ErrorResponse HINT, where the driver exposes it. */
  readonly hint?: string | null;
}
