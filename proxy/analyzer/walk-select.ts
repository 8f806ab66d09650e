// Walks SELECT (and VALUES, set operations): each query level's FROM scope, its output slots
// (lineage), and its predicates (WHERE, GROUP BY, HAVING, windows, DISTINCT, ORDER BY, LIMIT, and
// the outputs INTERSECT, EXCEPT and UNION compare).
import type { IntoClause, ResTarget, SelectStmt, WindowDef } from 'libpg-query';
import {
  newLevel,
  nodeType,
  type OutputNames,
  type QueryShape,
  type Scope,
  strings,
  unwrap,
  type Walker,
} from './builder.js';
import { combineSetop, type Lin, type Slot, sourcesOf, unknownSlots } from './lineage.js';
import { resolveCreation } from './names.js';
import { walkPredicate, walkWindow } from './walk-expr.js';
import { walkFromItem, walkWith } from './walk-from.js';
import { targetSlots, valuesSlots, walkClauseItem } from './walk-targets.js';

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
): QueryShape {
  if (depth > w.maxDepth) {
    w.b.flag('too_deep');
    return { names: null, slots: unknownSlots() };
  }
  const scope = s.withClause === undefined ? outer : walkWith(w, s.withClause, outer, depth + 1);
  if (s.intoClause !== undefined) selectInto(w, s.intoClause);
  if ((s.lockingClause?.length ?? 0) > 0) w.b.flag('locking_clause');
  if (s.op !== undefined && s.op !== 'SETOP_NONE') {
    const left = s.larg === undefined ? null : walkSelect(w, s.larg, scope, depth + 1);
    const right = s.rarg === undefined ? null : walkSelect(w, s.rarg, scope, depth + 1);
    const names = left?.names ?? null;
    const slots = combineSetop(left?.slots ?? unknownSlots(), right?.slots ?? unknownSlots());
    // INTERSECT and EXCEPT filter rows by comparing them, UNION without ALL groups them: every
    // output is compared, as by a WHERE or a GROUP BY (`... INTERSECT SELECT '078-05-1120'`).
    if (s.op !== 'SETOP_UNION' || s.all !== true) comparedOutputs(w, slots);
    const level = newLevel(scope);
    level.rels.push({ kind: 'derived', name: '', columns: names, members: [], slots });
    walkTail(w, s, level, clauseOutputs(s, names, slots), depth);
    return { names, slots };
  }
  if (s.valuesLists !== undefined) {
    const slots = valuesSlots(w, s.valuesLists, scope, depth + 1);
    walkTail(w, s, newLevel(scope), clauseOutputs(s, null, slots), depth);
    return { names: null, slots };
  }
  const level = newLevel(scope);
  for (const item of s.fromClause ?? []) walkFromItem(w, item, level, depth + 1);
  walkWindows(w, s.windowClause, level, depth + 1);
  const slots = targetSlots(w, s.targetList, level, depth + 1);
  const names = outputNames(s.targetList);
  const outputs = clauseOutputs(s, names, slots);
  walkPredicate(w, s.whereClause, level, depth + 1);
  for (const g of s.groupClause ?? []) walkClauseItem(w, g, 'group', level, outputs, depth + 1);
  walkPredicate(w, s.havingClause, level, depth + 1);
  for (const d of s.distinctClause ?? []) {
    // Plain DISTINCT is an empty item: it groups by every output. DISTINCT ON lists expressions.
    if (nodeType(d) !== undefined) walkClauseItem(w, d, 'distinct', level, outputs, depth + 1);
    else comparedOutputs(w, slots);
  }
  walkTail(w, s, level, outputs, depth);
  return { names, slots };
}

/** What GROUP BY, DISTINCT ON and ORDER BY items may name: the level's outputs. */
interface ClauseOutputs {
  readonly names: ReadonlySet<string>;
  readonly slots: readonly Slot[];
}

/** Stands in when the query has none of those clauses (nothing reads it). */
const NO_CLAUSES: ClauseOutputs = { names: new Set(), slots: [] };

function clauseOutputs(s: SelectStmt, names: OutputNames, slots: readonly Slot[]): ClauseOutputs {
  if (s.groupClause === undefined && s.distinctClause === undefined && s.sortClause === undefined) {
    return NO_CLAUSES;
  }
  return { names: new Set(names ?? []), slots };
}

/** Every output of a query level is compared (DISTINCT, a set operation): each is a predicate. */
function comparedOutputs(w: Walker, slots: readonly Slot[]): void {
  for (const slot of slots) w.b.predicate(sourcesOf(slot.lin));
}

/** WINDOW w AS (...): each window's lineage, for the window functions that name it. */
function walkWindows(
  w: Walker,
  defs: readonly unknown[] | undefined,
  level: Scope,
  depth: number,
): void {
  if (defs === undefined) return;
  const windows = new Map<string, Lin>();
  level.windows = windows;
  for (const d of defs) {
    const def = unwrap<WindowDef>(d, 'WindowDef');
    if (def === undefined) {
      w.b.flag('unknown_node');
      continue;
    }
    const lin = walkWindow(w, def, def.refname, level, depth + 1);
    if (def.name !== undefined) windows.set(def.name, lin);
  }
}

/** ORDER BY, LIMIT, OFFSET. */
function walkTail(
  w: Walker,
  s: SelectStmt,
  level: Scope,
  outputs: ClauseOutputs,
  depth: number,
): void {
  for (const sort of s.sortClause ?? []) {
    walkClauseItem(w, sort, 'order', level, outputs, depth + 1);
  }
  walkPredicate(w, s.limitOffset, level, depth + 1);
  walkPredicate(w, s.limitCount, level, depth + 1);
}
