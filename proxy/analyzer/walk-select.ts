// Walks SELECT (and VALUES, set operations, WITH): builds each query level's FROM scope, so
// column references resolve through aliases, and CTE names shadow tables.
import type {
  Alias,
  CommonTableExpr,
  IntoClause,
  JoinExpr,
  JsonTable,
  RangeFunction,
  RangeSubselect,
  RangeTableFunc,
  RangeTableSample,
  RangeVar,
  ResTarget,
  SelectStmt,
  WithClause,
} from 'libpg-query';
import {
  type AstObject,
  type CteDef,
  newLevel,
  nodeType,
  type OutputNames,
  type Rel,
  type Scope,
  strings,
  unwrap,
  type Walker,
} from './builder.js';
import { isCatalogSchema, resolveCreation, resolveRelation } from './names.js';
import { walkExpr, walkFields } from './walk-expr.js';

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
    if (wc.recursive) ctes.set(name, { columns });
    if (DML.has(nodeType(cte.ctequery) ?? '')) w.b.flag('dml_in_cte');
    const names = w.query(w, cte.ctequery, level, depth + 1);
    ctes.set(name, { columns: columns ?? names });
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
    level.rels.push({ kind: 'derived', name: refname, columns: cols ?? cte.columns, members: [] });
    return;
  }
  const r = resolveRelation(rv.schemaname, relname, w.path);
  if (isCatalogSchema(r.schema)) w.b.flag('system_catalog');
  const read = w.b.read(r.schema, r.table);
  // Renamed columns (`t AS x(a, b)`) hide which real column each name is: every column counts.
  if (cols !== null) read.add('*');
  level.rels.push({ kind: 'table', name: refname, schema: r.schema, table: r.table });
}

function addColumnTo(w: Walker, rels: readonly Rel[], column: string): void {
  for (const r of rels) {
    if (r.kind === 'table') w.b.read(r.schema, r.table).add(column);
    else addColumnTo(w, r.members, column);
  }
}

function funcName(list: readonly unknown[] | undefined): string {
  const first = unwrap<{ items?: unknown[] }>(list?.[0], 'List')?.items?.[0];
  const names = strings(unwrap<{ funcname?: unknown[] }>(first, 'FuncCall')?.funcname);
  return names[names.length - 1] ?? '';
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
      for (const c of strings(j.usingClause)) addColumnTo(w, sides, c);
      if (j.isNatural) addColumnTo(w, sides, '*');
      walkExpr(w, j.quals, level, depth + 1);
      for (const a of [j.alias, j.join_using_alias]) {
        if (a?.aliasname !== undefined) {
          level.rels.push({ kind: 'derived', name: a.aliasname, columns: null, members: sides });
        }
      }
      return;
    }
    case 'RangeSubselect': {
      const s = v as RangeSubselect;
      const names = w.query(w, s.subquery, s.lateral ? level : level.parent, depth + 1);
      const name = s.alias?.aliasname ?? '';
      level.rels.push({
        kind: 'derived',
        name,
        columns: aliasColumns(s.alias) ?? names,
        members: [],
      });
      return;
    }
    case 'RangeFunction': {
      const f = v as RangeFunction;
      for (const fn of f.functions ?? []) {
        const items = unwrap<{ items?: unknown[] }>(fn, 'List')?.items ?? [];
        walkExpr(w, items[0], level, depth + 1);
      }
      const fname = funcName(f.functions);
      const single = (f.functions?.length ?? 0) === 1 && f.alias === undefined ? [fname] : null;
      const columns = aliasColumns(f.alias) ?? single;
      level.rels.push({ kind: 'derived', name: f.alias?.aliasname ?? fname, columns, members: [] });
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
      walkFields(
        w,
        { d: t.docexpr, r: t.rowexpr, n: t.namespaces, c: t.columns },
        level,
        depth + 1,
      );
      const columns = t.columns?.map(
        (c) => unwrap<{ colname?: string }>(c, 'RangeTableFuncCol')?.colname ?? '',
      );
      level.rels.push({
        kind: 'derived',
        name: t.alias?.aliasname ?? '',
        columns: columns ?? null,
        members: [],
      });
      return;
    }
    case 'JsonTable': {
      const t = v as JsonTable;
      walkFields(
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
      });
      return;
    }
    default:
      w.b.flag('unknown_node');
  }
}

/** Output column names the way PostgreSQL names them, enough to resolve references to a subquery. */
export function outputNames(targets: readonly unknown[] | undefined): OutputNames {
  if (targets === undefined) return null;
  const out: string[] = [];
  for (const t of targets) {
    const rt = unwrap<ResTarget>(t, 'ResTarget');
    if (rt === undefined) return null;
    if (rt.name !== undefined) {
      out.push(rt.name);
      continue;
    }
    const ref = unwrap<{ fields?: unknown[] }>(rt.val, 'ColumnRef');
    if (ref !== undefined) {
      const last = ref.fields?.[ref.fields.length - 1];
      if (nodeType(last) === 'A_Star') return null;
      out.push(strings([last])[0] ?? '?column?');
      continue;
    }
    const fc = unwrap<{ funcname?: unknown[] }>(rt.val, 'FuncCall');
    const fn = strings(fc?.funcname);
    out.push(fn[fn.length - 1] ?? '?column?');
  }
  return out;
}

/** ORDER BY a bare output-column name refers to that output column, not to an input column. */
function isOutputName(node: unknown, names: ReadonlySet<string>): boolean {
  const by = unwrap<{ node?: unknown }>(node, 'SortBy');
  const ref = unwrap<{ fields?: unknown[] }>(by?.node, 'ColumnRef');
  if (ref?.fields?.length !== 1) return false;
  const name = strings(ref.fields)[0];
  return name !== undefined && names.has(name);
}

function selectInto(w: Walker, into: IntoClause): void {
  w.b.flag('select_into');
  w.b.flag('ddl');
  const rel = into.rel;
  const r = resolveCreation(
    rel?.schemaname,
    rel?.relname ?? '',
    rel?.relpersistence === 't',
    w.path,
  );
  w.b.write(r.schema, r.table, 'insert', false, null);
  w.b.object('table', `${r.schema}.${r.table}`);
}

export function walkSelect(
  w: Walker,
  s: SelectStmt,
  outer: Scope | null,
  depth: number,
): OutputNames {
  if (depth > w.maxDepth) {
    w.b.flag('too_deep');
    return null;
  }
  const scope = s.withClause === undefined ? outer : walkWith(w, s.withClause, outer, depth + 1);
  if (s.intoClause !== undefined) selectInto(w, s.intoClause);
  if ((s.lockingClause?.length ?? 0) > 0) w.b.flag('locking_clause');
  if (s.op !== undefined && s.op !== 'SETOP_NONE') {
    const names = s.larg === undefined ? null : walkSelect(w, s.larg, scope, depth + 1);
    if (s.rarg !== undefined) walkSelect(w, s.rarg, scope, depth + 1);
    const level = newLevel(scope);
    level.rels.push({ kind: 'derived', name: '', columns: names, members: [] });
    walkTail(w, s, level, new Set(names ?? []), depth);
    return names;
  }
  if (s.valuesLists !== undefined) {
    walkExpr(w, s.valuesLists, scope, depth + 1);
    walkTail(w, s, newLevel(scope), new Set(), depth);
    return null;
  }
  const level = newLevel(scope);
  for (const item of s.fromClause ?? []) walkFromItem(w, item, level, depth + 1);
  walkExpr(w, s.targetList, level, depth + 1);
  walkExpr(w, s.whereClause, level, depth + 1);
  walkExpr(w, s.groupClause, level, depth + 1);
  walkExpr(w, s.havingClause, level, depth + 1);
  walkExpr(w, s.windowClause, level, depth + 1);
  walkExpr(w, s.distinctClause, level, depth + 1);
  const names = outputNames(s.targetList);
  walkTail(w, s, level, new Set(names ?? []), depth);
  return names;
}

/** ORDER BY, LIMIT, OFFSET. */
function walkTail(
  w: Walker,
  s: SelectStmt,
  level: Scope,
  names: ReadonlySet<string>,
  depth: number,
): void {
  for (const sort of s.sortClause ?? []) {
    if (!isOutputName(sort, names)) walkExpr(w, sort, level, depth + 1);
  }
  walkExpr(w, s.limitOffset, level, depth + 1);
  walkExpr(w, s.limitCount, level, depth + 1);
}
