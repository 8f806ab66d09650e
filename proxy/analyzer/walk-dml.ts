// Walks INSERT, UPDATE, DELETE and MERGE: the target's write (action, WHERE, columns) and every
// read they make (WHERE, SET expressions, FROM/USING, RETURNING).
import type {
  DeleteStmt,
  InsertStmt,
  MergeStmt,
  MergeWhenClause,
  RangeVar,
  ResTarget,
  ReturningClause,
  UpdateStmt,
} from 'libpg-query';
import {
  type AstObject,
  NO_ROWS,
  newLevel,
  nodeType,
  type QueryShape,
  type Rel,
  type Scope,
  unwrap,
  type Walker,
} from './builder.js';
import { isCatalogSchema, resolveRelation } from './names.js';
import { walkExpr, walkPredicate } from './walk-expr.js';
import { walkFromItem, walkWith } from './walk-from.js';
import { outputNames } from './walk-select.js';
import { targetSlots } from './walk-targets.js';

type TableRel = Extract<Rel, { kind: 'table' }>;

/** A DML target is always a table: CTE names never shadow it. */
function targetRel(w: Walker, rv: RangeVar | undefined): TableRel {
  const relname = rv?.relname ?? '';
  const r = resolveRelation(rv?.schemaname, relname, w.path);
  if (isCatalogSchema(r.schema)) w.b.flag('system_catalog');
  return { kind: 'table', name: rv?.alias?.aliasname ?? relname, schema: r.schema, table: r.table };
}

const CONSTANT_PARTS: ReadonlySet<string> = new Set([
  'A_Const',
  'ParamRef',
  'TypeCast',
  'BoolExpr',
  'A_Expr',
  'List',
  'NullTest',
  'BooleanTest',
]);

/** True when an expression names no column, subquery or function: `WHERE true`, `WHERE 1 = 1`. */
function isConstant(node: unknown, depth: number): boolean {
  // Too deep to tell: treat as unbounded (the stricter reading).
  if (depth > 64) return true;
  if (Array.isArray(node)) return node.every((n) => isConstant(n, depth + 1));
  const type = nodeType(node);
  if (type === undefined) return true;
  if (!CONSTANT_PARTS.has(type)) return false;
  const v = (node as AstObject)[type] as AstObject;
  for (const k of ['arg', 'args', 'lexpr', 'rexpr', 'items']) {
    if (v[k] !== undefined && !isConstant(v[k], depth + 1)) return false;
  }
  return true;
}

export function hasWhere(where: unknown): boolean {
  return where !== undefined && !isConstant(where, 0);
}

/** Target column names of SET / INSERT lists; walks their value expressions and subscripts. */
function targetColumns(
  w: Walker,
  targets: readonly unknown[] | undefined,
  level: Scope,
  depth: number,
): string[] {
  const cols: string[] = [];
  for (const t of targets ?? []) {
    const rt = unwrap<ResTarget>(t, 'ResTarget');
    if (rt === undefined) {
      w.b.flag('unknown_node');
      continue;
    }
    if (rt.name !== undefined) cols.push(rt.name);
    walkExpr(w, rt.indirection, level, depth + 1);
    const multi = unwrap<{ source?: unknown; colno?: number }>(rt.val, 'MultiAssignRef');
    if (multi === undefined) walkExpr(w, rt.val, level, depth + 1);
    else if ((multi.colno ?? 1) === 1) walkExpr(w, multi.source, level, depth + 1);
  }
  return cols;
}

/** RETURNING sees the target (also as `old`/`new`, or their renamed aliases) and FROM items. */
function walkReturning(
  w: Walker,
  rc: ReturningClause | undefined,
  level: Scope,
  target: TableRel,
  depth: number,
): QueryShape {
  if (rc === undefined) return NO_ROWS;
  let oldName = 'old';
  let newName = 'new';
  for (const o of rc.options ?? []) {
    const opt = unwrap<{ option?: string; value?: string }>(o, 'ReturningOption');
    if (opt?.option === 'RETURNING_OPTION_OLD') oldName = opt.value ?? oldName;
    if (opt?.option === 'RETURNING_OPTION_NEW') newName = opt.value ?? newName;
  }
  for (const name of [oldName, newName]) {
    level.rels.push({ kind: 'derived', name, columns: null, members: [target], slots: null });
  }
  const slots = targetSlots(w, rc.exprs, level, depth + 1);
  return { names: outputNames(rc.exprs), slots };
}

export function walkInsert(
  w: Walker,
  s: InsertStmt,
  outer: Scope | null,
  depth: number,
): QueryShape {
  const scope = s.withClause === undefined ? outer : walkWith(w, s.withClause, outer, depth + 1);
  const target = targetRel(w, s.relation);
  const level = newLevel(scope);
  level.rels.push(target);
  const cols = targetColumns(w, s.cols, level, depth);
  w.b.write(target.schema, target.table, 'insert', false, cols.length > 0 ? cols : ['*']);
  // The source query cannot see the target.
  if (s.selectStmt !== undefined) w.query(w, s.selectStmt, scope, depth + 1);
  const oc = s.onConflictClause;
  if (oc !== undefined) {
    walkExpr(w, oc.infer?.indexElems, level, depth + 1);
    walkExpr(w, oc.infer?.whereClause, level, depth + 1);
    if (oc.action === 'ONCONFLICT_UPDATE') {
      const up = newLevel(scope);
      // EXCLUDED is the row proposed for insertion: values the client sent.
      up.rels.push(target, {
        kind: 'derived',
        name: 'excluded',
        columns: null,
        members: [],
        slots: null,
      });
      const set = targetColumns(w, oc.targetList, up, depth);
      walkPredicate(w, oc.whereClause, up, depth + 1);
      w.b.write(target.schema, target.table, 'update', true, set);
    }
  }
  return walkReturning(w, s.returningClause, level, target, depth);
}

export function walkUpdate(
  w: Walker,
  s: UpdateStmt,
  outer: Scope | null,
  depth: number,
): QueryShape {
  const scope = s.withClause === undefined ? outer : walkWith(w, s.withClause, outer, depth + 1);
  const target = targetRel(w, s.relation);
  const level = newLevel(scope);
  level.rels.push(target);
  for (const item of s.fromClause ?? []) walkFromItem(w, item, level, depth + 1);
  const cols = targetColumns(w, s.targetList, level, depth);
  walkPredicate(w, s.whereClause, level, depth + 1);
  w.b.write(target.schema, target.table, 'update', hasWhere(s.whereClause), cols);
  return walkReturning(w, s.returningClause, level, target, depth);
}

export function walkDelete(
  w: Walker,
  s: DeleteStmt,
  outer: Scope | null,
  depth: number,
): QueryShape {
  const scope = s.withClause === undefined ? outer : walkWith(w, s.withClause, outer, depth + 1);
  const target = targetRel(w, s.relation);
  const level = newLevel(scope);
  level.rels.push(target);
  for (const item of s.usingClause ?? []) walkFromItem(w, item, level, depth + 1);
  walkPredicate(w, s.whereClause, level, depth + 1);
  w.b.write(target.schema, target.table, 'delete', hasWhere(s.whereClause), null);
  return walkReturning(w, s.returningClause, level, target, depth);
}

export function walkMerge(w: Walker, s: MergeStmt, outer: Scope | null, depth: number): QueryShape {
  const scope = s.withClause === undefined ? outer : walkWith(w, s.withClause, outer, depth + 1);
  const target = targetRel(w, s.relation);
  const level = newLevel(scope);
  level.rels.push(target);
  walkFromItem(w, s.sourceRelation, level, depth + 1);
  walkPredicate(w, s.joinCondition, level, depth + 1);
  const cols = new Set<string>();
  for (const c of s.mergeWhenClauses ?? []) {
    const wc = unwrap<MergeWhenClause>(c, 'MergeWhenClause');
    if (wc === undefined) {
      w.b.flag('unknown_node');
      continue;
    }
    walkPredicate(w, wc.condition, level, depth + 1);
    const names = targetColumns(w, wc.targetList, level, depth);
    for (const n of names) cols.add(n);
    if (wc.commandType === 'CMD_INSERT' && names.length === 0) cols.add('*');
    walkExpr(w, wc.values, level, depth + 1);
  }
  w.b.write(
    target.schema,
    target.table,
    'merge',
    hasWhere(s.joinCondition),
    cols.size > 0 ? cols : null,
  );
  return walkReturning(w, s.returningClause, level, target, depth);
}
