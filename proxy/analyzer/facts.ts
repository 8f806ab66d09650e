// The analyzer's output types: StatementFacts mirrors `definitions.statementFacts` of
// schemas/policy-input.schema.json (snake_case kept, as the policy reads it), plus session effects.

/** @see schemas/policy-input.schema.json `definitions.flag` */
export const FLAGS = [
  'parse_error',
  'unknown_node',
  'do_block',
  'dynamic_sql',
  'dml_in_cte',
  'select_into',
  'create_table_as',
  'explain',
  'explain_analyze',
  'copy_program',
  'copy_file',
  'copy_to_stdout',
  'copy_from_stdin',
  'role_change',
  'session_authorization',
  'search_path_change',
  'set_config',
  'ddl',
  'alter_system',
  'transaction_control',
  'prepare',
  'execute',
  'deallocate',
  'cursor',
  'listen_notify',
  'maintenance',
  'grant_revoke',
  'call',
  'file_function',
  'server_function',
  'locking_clause',
  'system_catalog',
  'too_deep',
  'empty',
] as const;

export type Flag = (typeof FLAGS)[number];

export type WriteAction = 'insert' | 'update' | 'delete' | 'merge' | 'truncate' | 'copy_from';

/** @see schemas/policy-input.schema.json `definitions.relationRead` */
export interface RelationRead {
  readonly schema: string;
  readonly table: string;
  /** Columns read; '*' when every column (or the whole row) is read. */
  readonly columns: readonly string[];
}

/** @see schemas/policy-input.schema.json `definitions.relationWrite` */
export interface RelationWrite {
  readonly schema: string;
  readonly table: string;
  readonly action: WriteAction;
  /** False when there is no WHERE or it names no column, subquery or function (`WHERE 1 = 1`). */
  readonly has_where: boolean;
  /** Target columns; '*' for INSERT/COPY without a column list; absent for DELETE/TRUNCATE. */
  readonly columns?: readonly string[];
}

export interface SettingChange {
  readonly name: string;
  /** null for RESET / DEFAULT; '?' for an argument that is not a constant. */
  readonly value?: string | null;
  readonly local?: boolean;
}

export interface ObjectRef {
  readonly kind: string;
  readonly name: string;
}

/** @see schemas/policy-input.schema.json `definitions.statementFacts`; frozen once built. */
export interface StatementFacts {
  readonly sha256: string;
  readonly fingerprint: string;
  readonly index: number;
  readonly count: number;
  readonly command: string;
  readonly reads: readonly RelationRead[];
  readonly writes: readonly RelationWrite[];
  readonly functions: readonly string[];
  readonly flags: readonly Flag[];
  readonly settings?: readonly SettingChange[];
  readonly objects?: readonly ObjectRef[];
  readonly estimated_rows: number | null;
  /**
   * Every table column a predicate names (WHERE, JOIN ... ON/USING, GROUP BY, HAVING, ORDER BY,
   * window PARTITION BY/ORDER BY, DISTINCT ON, FILTER, LIMIT/OFFSET, at any depth), as
   * "schema.table.column" ('*' as column: every column of that table); sorted, deduplicated.
   */
  readonly predicate_columns: readonly string[];
}

/**
 * Where one output column of a row-returning statement comes from. Sources are
 * "schema.table.column"; "schema.table.*" means every column of that table.
 * A `star` entry stands for every column of its table, so it may cover several result columns; an
 * entry after a `star` is the column after that table's last one. An `opaque` entry made from a
 * star over columns the analyzer cannot know (a set operation, a function in FROM) may cover
 * several too: positions after it are unknown and must be treated as opaque.
 */
export type OutputLineage =
  /** A plain reference to one table column (through aliases, derived tables and CTEs; views are tables). */
  | { readonly kind: 'column'; readonly source: string }
  /** An expression whose value depends only on these columns (constants: none). */
  | { readonly kind: 'derived'; readonly sources: readonly string[] }
  /** An expanded `*` or `t.*` of a table: "schema.table". */
  | { readonly kind: 'star'; readonly table: string }
  /** Cannot be established. */
  | { readonly kind: 'opaque' };

/** A prepared statement's or cursor's query as the session tracks it. */
export interface StoredQuery {
  readonly facts: StatementFacts;
  /** The query's output lineage; null when it returns no rows. */
  readonly outputs: readonly OutputLineage[] | null;
}

/**
 * What the session applies to its tracked state once the statement SUCCEEDED upstream.
 * `path: null` means "back to the startup value" (RESET, SET ... TO DEFAULT, RESET ALL).
 */
export type Effect =
  | { type: 'SetSearchPath'; path: readonly string[] | null; local: boolean }
  | {
      type: 'Prepare';
      name: string;
      facts: StatementFacts;
      outputs: readonly OutputLineage[] | null;
    }
  | { type: 'Deallocate'; name: string | null; all: boolean }
  | {
      type: 'DeclareCursor';
      name: string;
      facts: StatementFacts;
      outputs: readonly OutputLineage[] | null;
    }
  | { type: 'CloseCursor'; name: string | null; all: boolean }
  | { type: 'Discard'; target: 'all' | 'plans' | 'sequences' | 'temp' };

export interface AnalyzeContext {
  /** search_path in effect, as schema names (already unquoted); `$user` entries are ignored. */
  readonly searchPath: readonly string[];
  /** What a Prepare effect carried (facts and outputs), by statement name. */
  readonly prepared: (name: string) => StoredQuery | undefined;
  /** What a DeclareCursor effect carried, by cursor name. */
  readonly cursors: (name: string) => StoredQuery | undefined;
  /**
   * The startup search_path that RESET restores, used only for later statements of the same
   * query string. Default: PostgreSQL's `"$user", public`.
   */
  readonly defaultSearchPath?: readonly string[];
}

export interface AnalyzedStatement {
  facts: StatementFacts;
  /**
   * One lineage per target-list item in order (a `*` or `t.*` item expands to one `star` per
   * table, or to a derived table's own outputs); DML gives its RETURNING list, COPY ... TO STDOUT
   * its columns, EXECUTE/FETCH the stored query's. null when the statement returns no rows.
   */
  outputs: readonly OutputLineage[] | null;
  /** This statement's slice of the query string (first to last token, no `;`). */
  text: string;
  /** `text` with every literal replaced by a `$n` placeholder, for audit. */
  normalized: string;
  effects: Effect[];
  /**
   * The statement's literal-free form with the search_path it was resolved under: equal keys
   * mean equal facts apart from sha256/index/count. null when the facts may depend on a literal
   * value (settings, COPY, EXPLAIN, PREPARE/EXECUTE, flagged functions, ...) or on session state.
   */
  cacheKey: string | null;
}

export interface AnalyzeResult {
  statements: AnalyzedStatement[];
}
