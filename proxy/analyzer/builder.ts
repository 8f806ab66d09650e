// Accumulates one statement's facts while the walkers visit its AST, and defines the walker's
// state (search path, prepared statements and cursors seen so far) and name scopes.
import type { A_Const } from 'libpg-query';
import type {
  Effect,
  Flag,
  ObjectRef,
  OutputLineage,
  SettingChange,
  StatementFacts,
  WriteAction,
} from './facts.js';
import { addLin, type Lin, normalizeSources, type Sink, type Slot } from './lineage.js';

/** The facts a walker produces; the analyzer adds sha256, fingerprint, index and count. */
export type FactsBody = Omit<StatementFacts, 'sha256' | 'fingerprint' | 'index' | 'count'>;

/** A prepared statement's or cursor's query as the walker sees it. */
export interface StoredBody {
  readonly facts: FactsBody;
  readonly outputs: readonly OutputLineage[] | null;
}

/** An effect whose facts still lack the statement's sha256, fingerprint, index and count. */
export type PendingEffect =
  | Exclude<Effect, { type: 'Prepare' } | { type: 'DeclareCursor' }>
  | { type: 'Prepare'; name: string; body: FactsBody; outputs: readonly OutputLineage[] | null }
  | {
      type: 'DeclareCursor';
      name: string;
      body: FactsBody;
      outputs: readonly OutputLineage[] | null;
    };

interface ReadEntry {
  readonly schema: string;
  readonly table: string;
  readonly columns: Set<string>;
}

interface WriteEntry {
  schema: string;
  table: string;
  action: WriteAction;
  hasWhere: boolean;
  columns: Set<string> | null;
}

/** The empty list every empty fact shares (frozen: facts are never changed once built). */
const NONE: readonly never[] = Object.freeze([]);

export class FactsBuilder {
  private readonly reads = new Map<string, ReadEntry>();
  private lastRead: ReadEntry | undefined;
  private readonly writes: WriteEntry[] = [];
  readonly functions = new Set<string>();
  readonly flags = new Set<Flag>();
  readonly settings: SettingChange[] = [];
  private readonly objects = new Map<string, ObjectRef>();
  readonly effects: PendingEffect[] = [];
  private readonly predicates = new Set<string>();
  /** Predicate collectors of the enclosing subqueries (each sees its own and nested predicates). */
  readonly collectors: Set<string>[] = [];
  /** Value sinks of the expressions being walked in the current query level (innermost last). */
  sinks: Sink[] = [];
  /** The statement's outputs; null when it returns no rows. */
  outputs: readonly OutputLineage[] | null = null;
  /** Set when the facts depend on a literal (`ORDER BY 2`): such a statement is never cached. */
  literalDependent = false;

  /** Feeds a value's lineage to every expression being walked in the current query level. */
  use(lin: Lin): void {
    for (const s of this.sinks) addLin(s, lin);
  }

  /** Records columns named by a predicate. */
  predicate(sources: Iterable<string>): void {
    for (const s of sources) {
      this.predicates.add(s);
      for (const c of this.collectors) c.add(s);
    }
  }

  flag(f: Flag): void {
    this.flags.add(f);
  }

  /** The read entry of a table (created empty: reading a table without naming columns still counts). */
  read(schema: string, table: string): Set<string> {
    // Most references in a row name the table of the one before.
    const last = this.lastRead;
    if (last !== undefined && last.table === table && last.schema === schema) return last.columns;
    const k = `${schema}\u0000${table}`;
    let e = this.reads.get(k);
    if (e === undefined) {
      e = { schema, table, columns: new Set() };
      this.reads.set(k, e);
    }
    this.lastRead = e;
    return e.columns;
  }

  write(
    schema: string,
    table: string,
    action: WriteAction,
    hasWhere: boolean,
    columns: Iterable<string> | null,
  ): void {
    let e = this.writes.find(
      (w) => w.schema === schema && w.table === table && w.action === action,
    );
    if (e === undefined) {
      e = { schema, table, action, hasWhere, columns: null };
      this.writes.push(e);
    }
    // Two writes of one kind to one table: the unbounded one decides.
    e.hasWhere = e.hasWhere && hasWhere;
    if (columns !== null) {
      e.columns ??= new Set();
      for (const c of columns) e.columns.add(c);
    }
  }

  object(kind: string, name: string): void {
    this.objects.set(`${kind}\u0000${name}`, { kind, name });
  }

  setting(s: SettingChange): void {
    this.settings.push(s);
  }

  /** Adds another statement's facts (EXECUTE of a prepared statement, FETCH from a cursor). */
  mergeFacts(f: FactsBody, withReadsWrites: boolean): void {
    if (withReadsWrites) {
      for (const r of f.reads) {
        const cols = this.read(r.schema, r.table);
        for (const c of r.columns) cols.add(c);
      }
      for (const w of f.writes)
        this.write(w.schema, w.table, w.action, w.has_where, w.columns ?? null);
    } else {
      for (const r of f.reads) this.object('table', `${r.schema}.${r.table}`);
      for (const w of f.writes) this.object('table', `${w.schema}.${w.table}`);
    }
    if (withReadsWrites) this.predicate(f.predicate_columns);
    for (const fn of f.functions) this.functions.add(fn);
    for (const fl of f.flags) this.flags.add(fl);
    for (const s of f.settings ?? []) this.settings.push(s);
    for (const o of f.objects ?? []) this.object(o.kind, o.name);
  }

  build(command: string): FactsBody {
    const reads =
      this.reads.size === 0
        ? NONE
        : [...this.reads.values()].map((r) => ({
            schema: r.schema,
            table: r.table,
            columns: [...r.columns].sort(),
          }));
    const writes =
      this.writes.length === 0
        ? NONE
        : this.writes.map((w) =>
            w.columns === null
              ? { schema: w.schema, table: w.table, action: w.action, has_where: w.hasWhere }
              : {
                  schema: w.schema,
                  table: w.table,
                  action: w.action,
                  has_where: w.hasWhere,
                  columns: [...w.columns].sort(),
                },
          );
    const functions = this.functions.size === 0 ? NONE : [...this.functions].sort();
    const flags = this.flags.size === 0 ? NONE : [...this.flags].sort();
    const predicates = this.predicates.size === 0 ? NONE : normalizeSources(this.predicates);
    if (this.settings.length === 0 && this.objects.size === 0) {
      // The common shape as one literal: no spreads on the hot path.
      return {
        command,
        reads,
        writes,
        functions,
        flags,
        estimated_rows: null,
        predicate_columns: predicates,
      };
    }
    const body: FactsBody = {
      command,
      reads,
      writes,
      functions,
      flags,
      ...(this.settings.length === 0 ? {} : { settings: [...this.settings] }),
      ...(this.objects.size === 0 ? {} : { objects: [...this.objects.values()] }),
      estimated_rows: null,
      predicate_columns: predicates,
    };
    return body;
  }
}

/** A relation visible by name in a query level. */
export type Rel =
  | {
      kind: 'table';
      name: string;
      schema: string;
      table: string;
      /** Its columns are renamed (`t AS x(a, b)`): a name no longer tells which column it is. */
      renamed?: true;
    }
  | {
      kind: 'derived';
      name: string;
      /** Output column names, null when unknown. */
      columns: readonly string[] | null;
      /** Tables whose columns this name exposes directly (join aliases, RETURNING old/new). */
      members: readonly Rel[];
      /** Output lineage (after renaming); null when unknown (every column is opaque). */
      slots: readonly Slot[] | null;
    };

export interface CteDef {
  columns: readonly string[] | null;
  slots: readonly Slot[] | null;
  /** Columns named by the CTE's predicates: a subquery reading the CTE depends on them. */
  predicates: readonly string[];
}

/** One query level: its FROM relations, or the CTEs of a WITH clause. */
export interface Scope {
  readonly parent: Scope | null;
  readonly rels: Rel[];
  readonly ctes: Map<string, CteDef> | null;
  /** Lineage of the level's named windows (`WINDOW w AS (...)`). */
  windows?: Map<string, Lin>;
}

export function newLevel(parent: Scope | null): Scope {
  return { parent, rels: [], ctes: null };
}

/** Finds a relation by its reference name (alias, or table name when unaliased), innermost first. */
export function findRel(
  scope: Scope | null,
  schema: string | undefined,
  name: string,
): Rel | undefined {
  for (let s = scope; s !== null; s = s.parent) {
    for (const r of s.rels) {
      if (
        schema === undefined
          ? r.name === name
          : r.kind === 'table' && r.table === name && r.schema === schema
      ) {
        return r;
      }
    }
  }
  return undefined;
}

/** Output column names of a query; null when unknown (a `*`, or no names). */
export type OutputNames = readonly string[] | null;

/** What walking a query yields: names for resolving references, lineage for masking. */
export interface QueryShape {
  readonly names: OutputNames;
  /** One slot per output column (wide slots for stars); null when the query returns no rows. */
  readonly slots: readonly Slot[] | null;
}

export const NO_ROWS: QueryShape = Object.freeze({ names: null, slots: null });

export interface Walker {
  readonly b: FactsBuilder;
  /** search_path in effect for this statement. */
  readonly path: readonly string[];
  readonly maxDepth: number;
  readonly prepared: (name: string) => StoredBody | undefined;
  readonly cursors: (name: string) => StoredBody | undefined;
  /** Walks any query-shaped node (SELECT, VALUES, INSERT, UPDATE, DELETE, MERGE). */
  readonly query: (w: Walker, node: unknown, scope: Scope | null, depth: number) => QueryShape;
  /** Walks a whole statement into `w.b`; returns its command tag. */
  readonly statement: (w: Walker, node: unknown, depth: number) => string;
}

/** A walker over the same session state that collects into a fresh builder. */
export function childWalker(w: Walker): Walker {
  return { ...w, b: new FactsBuilder() };
}

export type AstObject = Record<string, unknown>;

/** The type name of a wrapped AST node (`{"SelectStmt": {...}}`), or undefined. */
export function nodeType(node: unknown): string | undefined {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
  for (const k in node as AstObject) return k;
  return undefined;
}

/** Whether a value is a wrapped node: one key, named like a node type (upper-case first letter). */
export function isWrapped(node: AstObject): boolean {
  let count = 0;
  let first = '';
  for (const k in node) {
    if (count++ > 0) return false;
    first = k;
  }
  const c = first.charCodeAt(0);
  return count === 1 && c >= 65 && c <= 90;
}

/** The payload of a wrapped node of the given type, or undefined. */
export function unwrap<T>(node: unknown, type: string): T | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  return (node as AstObject)[type] as T | undefined;
}

/** Values of a list of `String` nodes (names), skipping anything else. */
export function strings(list: readonly unknown[] | undefined): string[] {
  const out: string[] = [];
  if (list === undefined) return out;
  for (const item of list) {
    const s = unwrap<{ sval?: string }>(item, 'String');
    if (s !== undefined) out.push(s.sval ?? '');
  }
  return out;
}

/**
 * The value of an `A_Const` as text: undefined when the node is not a constant, null for NULL.
 * Protobuf JSON omits zero values, so `{ival: {}}` is 0 and `{boolval: {}}` is false.
 */
export function constString(node: unknown): string | null | undefined {
  const c = unwrap<A_Const>(node, 'A_Const');
  if (c === undefined) return undefined;
  if (c.isnull) return null;
  if (c.sval !== undefined) return c.sval.sval ?? '';
  if (c.ival !== undefined) return String(c.ival.ival ?? 0);
  if (c.fval !== undefined) return c.fval.fval ?? '0';
  if (c.boolval !== undefined) return c.boolval.boolval ? 'true' : 'false';
  if (c.bsval !== undefined) return c.bsval.bsval ?? '';
  return undefined;
}

/** The value of a DefElem argument (`String`, `Integer`, `Float`, `Boolean` or `A_Const`) as text. */
export function valueText(node: unknown): string | null | undefined {
  switch (nodeType(node)) {
    case 'String':
      return unwrap<{ sval?: string }>(node, 'String')?.sval ?? '';
    case 'Integer':
      return String(unwrap<{ ival?: number }>(node, 'Integer')?.ival ?? 0);
    case 'Float':
      return unwrap<{ fval?: string }>(node, 'Float')?.fval ?? '0';
    case 'Boolean':
      return unwrap<{ boolval?: boolean }>(node, 'Boolean')?.boolval ? 'true' : 'false';
    default:
      return constString(node);
  }
}
