// Walks WITH and FROM: builds each query level's relations (tables, CTEs, derived tables, joins,
// functions) with the output lineage of the derived ones, so references resolve through aliases.
import type {
  Alias,
  CommonTableExpr,
  JoinExpr,
  JsonTable,
  RangeFunction,
  RangeSubselect,
  RangeTableFunc,
  RangeTableSample,
  RangeVar,
  WithClause,
} from 'libpg-query';
import {
  type AstObject,
  type CteDef,
  nodeType,
  type Rel,
  type Scope,
  strings,
  unwrap,
  type Walker,
} from './builder.js';
import {
  newSink,
  normalizeSources,
  opaqueOf,
  renameSlots,
  type Slot,
  sourcesOf,
  unknownSlots,
} from './lineage.js';
import { isCatalogSchema, resolveRelation } from './names.js';
import { walkExpr, walkInto, walkPredicate } from './walk-expr.js';
import { columnOf, wholeRowOf } from './walk-lineage.js';

const DML: ReadonlySet<string> = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

function aliasColumns(alias: Alias | undefined): string[] | null {
  const cols = strings(alias?.colnames);
  return cols.length > 0 ? cols : null;
}

function findCte(scope: Scope | null, name: string): CteDef | undefined {
  for (let s = scope; s !== null; s = s.parent) {
    const c = s.ctes?.get(name);
    if (c !== undefined) return c;
  }
  return undefined;
}

/** WITH: each CTE sees the ones before it (and itself when RECURSIVE); returns their scope. */
export function walkWith(w: Walker, wc: WithClause, outer: Scope | null, depth: number): Scope {
  const ctes = new Map<string, CteDef>();
  const level: Scope = { parent: outer, rels: [], ctes };
  for (const item of wc.ctes ?? []) {
    const cte = unwrap<CommonTableExpr>(item, 'CommonTableExpr');
    if (cte === undefined) {
      w.b.flag('unknown_node');
      continue;
    }
    const name = cte.ctename ?? '';
    const declared = strings(cte.aliascolnames);
    const columns = declared.length > 0 ? declared : null;
    // A recursive reference to itself has unknown lineage: what it yields is opaque.
    if (wc.recursive) ctes.set(name, { columns, slots: null, predicates: [] });
    if (DML.has(nodeType(cte.ctequery) ?? '')) w.b.flag('dml_in_cte');
    const predicates = new Set<string>();
    w.b.collectors.push(predicates);
    let shape: ReturnType<Walker['query']>;
    try {
      shape = w.query(w, cte.ctequery, level, depth + 1);
    } finally {
      w.b.collectors.pop();
    }
    ctes.set(name, {
      columns: columns ?? shape.names,
      slots: shape.slots === null ? null : renameSlots(shape.slots, declared),
      predicates: [...predicates],
    });
  }
  return level;
}

/** A table in FROM, or a CTE reference when an unqualified name matches a CTE in scope. */
export function addRangeVar(w: Walker, rv: RangeVar, level: Scope): void {
  const relname = rv.relname ?? '';
  const refname = rv.alias?.aliasname ?? relname;
  const cols = aliasColumns(rv.alias);
  const cte = rv.schemaname === undefined ? findCte(level, relname) : undefined;
  if (cte !== undefined) {
    // Which rows the CTE yields depends on its predicates: so does anything reading it.
    w.b.predicate(cte.predicates);
    level.rels.push({
      kind: 'derived',
      name: refname,
      columns: cols ?? cte.columns,
      members: [],
      slots: cte.slots === null ? null : renameSlots(cte.slots, cols ?? []),
    });
    return;
  }
  const r = resolveRelation(rv.schemaname, relname, w.path);
  if (isCatalogSchema(r.schema)) w.b.flag('system_catalog');
  const read = w.b.read(r.schema, r.table);
  // Renamed columns (`t AS x(a, b)`) hide which real column each name is: every column counts.
  if (cols !== null) read.add('*');
  level.rels.push(
    cols === null
      ? { kind: 'table', name: refname, schema: r.schema, table: r.table }
      : { kind: 'table', name: refname, schema: r.schema, table: r.table, renamed: true },
  );
}

function addColumnTo(w: Walker, rels: readonly Rel[], column: string): void {
  for (const r of rels) {
    if (r.kind === 'table') w.b.read(r.schema, r.table).add(column);
    else addColumnTo(w, r.members, column);
  }
}

/** JOIN ... USING / NATURAL: the join columns of both sides are predicates. */
function joinColumns(
  w: Walker,
  sides: readonly Rel[],
  using: readonly string[],
  natural: boolean,
): void {
  for (const r of sides) {
    if (r.kind === 'derived' && r.members.length > 0) continue;
    if (natural) w.b.predicate(sourcesOf(wholeRowOf(r)));
    for (const c of using) {
      const lin = columnOf(r, c).lin;
      if (lin !== null) w.b.predicate(sourcesOf(lin));
    }
  }
}

function funcName(list: readonly unknown[] | undefined): string {
  const first = unwrap<{ items?: unknown[] }>(list?.[0], 'List')?.items?.[0];
  const names = strings(unwrap<{ funcname?: unknown[] }>(first, 'FuncCall')?.funcname);
  return names[names.length - 1] ?? '';
}

/** Built-in set-returning functions of one base-type column (named for the alias or function). */
const SCALAR_SRF: ReadonlySet<string> = new Set([
  'generate_series',
  'generate_subscripts',
  'regexp_split_to_table',
  'string_to_table',
]);

/**
 * What a function in FROM yields: opaque columns depending on its arguments. Their names and
 * count are known only from a column definition list or for a few scalar built-ins.
 */
function functionSlots(f: RangeFunction, inputs: readonly string[]): Slot[] {
  const opaque = (name: string): Slot => ({ name, lin: { kind: 'opaque', inputs }, wide: false });
  const defs = (f.coldeflist ?? []).map(
    (c) => unwrap<{ colname?: string }>(c, 'ColumnDef')?.colname ?? '',
  );
  const fname = funcName(f.functions);
  const single = (f.functions?.length ?? 0) === 1;
  const aliases = aliasColumns(f.alias) ?? [];
  let names: string[] | null = null;
  if (defs.length > 0) names = defs;
  else if (single && SCALAR_SRF.has(fname)) {
    names = [aliases[0] ?? f.alias?.aliasname ?? fname];
  }
  if (names === null) return unknownSlots(inputs);
  if (f.ordinality) names.push(aliases[names.length] ?? 'ordinality');
  return names.map(opaque);
}

/** One FROM item; functions, XMLTABLE and JSON_TABLE are implicitly LATERAL. */
export function walkFromItem(w: Walker, item: unknown, level: Scope, depth: number): void {
  if (depth > w.maxDepth) {
    w.b.flag('too_deep');
    return;
  }
  const type = nodeType(item);
  const v = type === undefined ? undefined : (item as AstObject)[type];
  switch (type) {
    case 'RangeVar':
      addRangeVar(w, v as RangeVar, level);
      return;
    case 'JoinExpr': {
      const j = v as JoinExpr;
      const before = level.rels.length;
      walkFromItem(w, j.larg, level, depth + 1);
      walkFromItem(w, j.rarg, level, depth + 1);
      const sides = level.rels.slice(before);
      const using = strings(j.usingClause);
      for (const c of using) addColumnTo(w, sides, c);
      if (j.isNatural) addColumnTo(w, sides, '*');
      joinColumns(w, sides, using, j.isNatural === true);
      walkPredicate(w, j.quals, level, depth + 1);
      for (const a of [j.alias, j.join_using_alias]) {
        if (a?.aliasname !== undefined) {
          level.rels.push({
            kind: 'derived',
            name: a.aliasname,
            columns: null,
            members: sides,
            slots: null,
          });
        }
      }
      return;
    }
    case 'RangeSubselect': {
      const s = v as RangeSubselect;
      const shape = w.query(w, s.subquery, s.lateral ? level : level.parent, depth + 1);
      const cols = aliasColumns(s.alias);
      let slots = shape.slots === null ? null : renameSlots(shape.slots, cols ?? []);
      // A LATERAL subquery's columns are treated as opaque (their inputs still count).
      if (s.lateral && slots !== null) slots = slots.map((x) => ({ ...x, lin: opaqueOf(x.lin) }));
      level.rels.push({
        kind: 'derived',
        name: s.alias?.aliasname ?? '',
        columns: cols ?? shape.names,
        members: [],
        slots,
      });
      return;
    }
    case 'RangeFunction': {
      const f = v as RangeFunction;
      const inputs = newSink();
      for (const fn of f.functions ?? []) {
        const items = unwrap<{ items?: unknown[] }>(fn, 'List')?.items ?? [];
        walkInto(w, items[0], level, depth + 1, inputs);
      }
      const fname = funcName(f.functions);
      const single = (f.functions?.length ?? 0) === 1 && f.alias === undefined ? [fname] : null;
      const columns = aliasColumns(f.alias) ?? single;
      level.rels.push({
        kind: 'derived',
        name: f.alias?.aliasname ?? fname,
        columns,
        members: [],
        slots: functionSlots(f, normalizeSources(inputs.sources)),
      });
      return;
    }
    case 'RangeTableSample': {
      const t = v as RangeTableSample;
      walkFromItem(w, t.relation, level, depth + 1);
      walkExpr(w, t.args, level, depth + 1);
      walkExpr(w, t.repeatable, level, depth + 1);
      return;
    }
    case 'RangeTableFunc': {
      const t = v as RangeTableFunc;
      const inputs = walkInto(
        w,
        { d: t.docexpr, r: t.rowexpr, n: t.namespaces, c: t.columns },
        level,
        depth + 1,
      );
      const columns = t.columns?.map(
        (c) => unwrap<{ colname?: string }>(c, 'RangeTableFuncCol')?.colname ?? '',
      );
      const src = normalizeSources(inputs.sources);
      level.rels.push({
        kind: 'derived',
        name: t.alias?.aliasname ?? '',
        columns: columns ?? null,
        members: [],
        slots:
          columns === undefined
            ? unknownSlots(src)
            : columns.map((name) => ({ name, lin: { kind: 'opaque', inputs: src }, wide: false })),
      });
      return;
    }
    case 'JsonTable': {
      const t = v as JsonTable;
      const inputs = walkInto(
        w,
        { c: t.context_item, p: t.passing, k: t.columns, e: t.on_error },
        level,
        depth + 1,
      );
      level.rels.push({
        kind: 'derived',
        name: t.alias?.aliasname ?? '',
        columns: null,
        members: [],
        slots: unknownSlots(normalizeSources(inputs.sources)),
      });
      return;
    }
    default:
      w.b.flag('unknown_node');
  }
}
