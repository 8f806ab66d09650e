// One case of the masking table: a statement (with the statements it needs before and after it on the
// same connection) and what each output column must look like through the gateway, judged against the
// same statement run straight on PostgreSQL by the same driver in the same mode.

/**
 * Per output column: K keeps the direct value exactly, R is '[redacted]', N is NULL, E keeps the
 * e-mail domain (`***@domain`), P keeps the last four characters (`****0958`), H is the keyed hash
 * (32 hex digits, the same for the same input).
 */
export type ColumnCode = 'K' | 'R' | 'N' | 'E' | 'P' | 'H';

export type CopyFormat = 'text' | 'csv' | 'binary';

export interface MaskCase {
  /** Unique, stable slug: the test name. */
  readonly id: string;
  readonly sql: string;
  /** Statements run first on the same connection (their answers must not leak either). */
  readonly before?: readonly string[];
  /** Statements run afterwards on the same connection, even when `sql` failed. */
  readonly after?: readonly string[];
  /** Allowed: one code per output column, e.g. 'KKRE'. */
  readonly columns?: string;
  /** Refused by the gateway with 42501 naming this rule. */
  readonly refused?: string;
  /** Fails in PostgreSQL with this SQLSTATE, as it does directly. */
  readonly error?: string;
  /** A COPY ... TO STDOUT in this format (drivers read it with their COPY API). */
  readonly copy?: CopyFormat;
  /** Kept out of driver modes that cannot express it, with the reason. */
  readonly skip?: Readonly<Partial<Record<DriverMode, string>>>;
  readonly note?: string;
}

export type DriverMode =
  | 'node-pg simple'
  | 'node-pg extended'
  | 'node-pg binary'
  | 'postgres.js simple'
  | 'postgres.js prepared'
  | 'psql'
  | 'psycopg text'
  | 'psycopg binary';

/** An allowed statement whose columns are checked by code. */
export const rows = (id: string, sql: string, columns: string, extra: Partial<MaskCase> = {}) =>
  ({ id, sql, columns: columns.replace(/\s/g, ''), ...extra }) satisfies MaskCase;

/** A statement the gateway refuses with 42501 naming `rule`. */
export const refused = (id: string, sql: string, rule: string, extra: Partial<MaskCase> = {}) =>
  ({ id, sql, refused: rule, ...extra }) satisfies MaskCase;

/** A statement PostgreSQL itself fails with `sqlstate` (the error must not carry a secret). */
export const fails = (id: string, sql: string, sqlstate: string, extra: Partial<MaskCase> = {}) =>
  ({ id, sql, error: sqlstate, ...extra }) satisfies MaskCase;

/** A COPY TO STDOUT whose columns are checked by code. */
export const copyOut = (id: string, sql: string, format: CopyFormat, columns: string) =>
  ({ id, sql, copy: format, columns: columns.replace(/\s/g, '') }) satisfies MaskCase;

/** A cell as every runner reports it: JSON-comparable, NULL as null. */
export type Cell = unknown;

/** What one driver observed for one case. */
export interface CaseResult {
  readonly ok: boolean;
  readonly sqlstate: string | null;
  readonly message: string | null;
  /** Output column names and type OIDs (type -1 where the driver does not tell). */
  readonly columns: readonly { readonly name: string; readonly type: number }[];
  readonly rows: readonly (readonly Cell[])[];
  /** COPY data as received (base64 in JSON). */
  readonly copy?: Buffer;
}

export function checkCase(all: readonly MaskCase[]): void {
  const seen = new Set<string>();
  for (const c of all) {
    if (seen.has(c.id)) throw new Error(`masking table: duplicate case ${c.id}`);
    seen.add(c.id);
    const kinds = [c.columns !== undefined, c.refused !== undefined, c.error !== undefined];
    if (kinds.filter(Boolean).length !== 1)
      throw new Error(`masking table: ${c.id} needs exactly one of columns, refused, error`);
    if (c.columns !== undefined && !/^[KRNEPH]+$/.test(c.columns))
      throw new Error(`masking table: ${c.id} has bad column codes ${c.columns}`);
  }
}
