// Walks expressions: resolves column references to the tables of the enclosing query levels,
// records function calls (flagging the ones that reach outside) and descends into subqueries.
import type { ColumnRef, FuncCall, SubLink, WindowDef } from 'libpg-query';
import {
  type AstObject,
  constString,
  findRel,
  nodeType,
  type Rel,
  type Scope,
  strings,
  type Walker,
} from './builder.js';
import { addLin, type Lin, newSink, type Sink, sinkLin } from './lineage.js';
import { breaksLexing, classifyFunction, parseSearchPath, resolveFunction } from './names.js';
import { refLineage, windowLineage } from './walk-lineage.js';

/** Expression node types with no meaning of their own here: their children are walked. */
const TRANSPARENT: ReadonlySet<string> = new Set([
  'A_Expr',
  'A_ArrayExpr',
  'A_Indices',
  'A_Indirection',
  'BoolExpr',
  'BooleanTest',
  'CaseExpr',
  'CaseWhen',
  'CoalesceExpr',
  'CollateClause',
  'GroupingFunc',
  'GroupingSet',
  'IndexElem',
  'JsonAggConstructor',
  'JsonArgument',
  'JsonArrayAgg',
  'JsonArrayConstructor',
  'JsonArrayQueryConstructor',
  'JsonBehavior',
  'JsonFormat',
  'JsonFuncExpr',
  'JsonIsPredicate',
  'JsonKeyValue',
  'JsonObjectAgg',
  'JsonObjectConstructor',
  'JsonOutput',
  'JsonParseExpr',
  'JsonReturning',
  'JsonScalarExpr',
  'JsonSerializeExpr',
  'JsonTableColumn',
  'JsonTablePathSpec',
  'JsonValueExpr',
  'List',
  'MinMaxExpr',
  'MultiAssignRef',
  'NamedArgExpr',
  'NullTest',
  'RangeTableFuncCol',
  'ResTarget',
  'RowExpr',
  'SortBy',
  'WindowDef',
  'XmlExpr',
  'XmlSerialize',
]);

/** Leaf node types: nothing below them can read data or call a function. */
const LEAVES: ReadonlySet<string> = new Set([
  'A_Const',
  'A_Star',
  'BitString',
  'Boolean',
  'CurrentOfExpr',
  'Float',
  'Integer',
  'MergeSupportFunc',
  'ParamRef',
  'RoleSpec',
  'SQLValueFunction',
  'SetToDefault',
  'String',
  'TypeName',
]);

const QUERIES: ReadonlySet<string> = new Set([
  'SelectStmt',
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
]);

export function walkExpr(w: Walker, node: unknown, scope: Scope | null, depth: number): void {
  if (node === null || typeof node !== 'object') return;
  if (depth > w.maxDepth) {
    w.b.flag('too_deep');
    return;
  }
  if (Array.isArray(node)) {
    for (const n of node) walkExpr(w, n, scope, depth + 1);
    return;
  }
  // One pass over the keys: a wrapped node has exactly one, named like a node type.
  let type: string | undefined;
  let keys = 0;
  for (const k in node as AstObject) {
    if (keys++ > 0) break;
    type = k;
  }
  if (type === undefined) return;
  const c = type.charCodeAt(0);
  if (keys !== 1 || c < 65 || c > 90) {
    walkFields(w, node as AstObject, scope, depth + 1);
    return;
  }
  const v = (node as AstObject)[type];
  if (LEAVES.has(type)) return;
  switch (type) {
    case 'ColumnRef':
      resolveColumnRef(w, v as ColumnRef, scope);
      if (w.b.sinks.length > 0) w.b.use(refLineage(scope, v as ColumnRef));
      return;
    case 'FuncCall':
      walkFuncCall(w, v as FuncCall, scope, depth);
      return;
    case 'SubLink': {
      const s = v as SubLink;
      walkExpr(w, s.testexpr, scope, depth + 1);
      // EXISTS depends on which rows there are, never on the values selected.
      const values = s.subLinkType !== 'EXISTS_SUBLINK';
      w.b.use(subqueryLineage(w, s.subselect, scope, depth + 1, values));
      return;
    }
    case 'TypeCast':
      walkExpr(w, (v as { arg?: unknown }).arg, scope, depth + 1);
      return;
    default:
      if (QUERIES.has(type)) {
        w.b.use(subqueryLineage(w, node, scope, depth + 1, true));
        return;
      }
      if (TRANSPARENT.has(type)) {
        walkFields(w, v as AstObject, scope, depth + 1);
        return;
      }
      // SECURITY: an expression we do not understand might read or call anything.
      w.b.flag('unknown_node');
  }
}

/**
 * Walks a subquery used as a value: its value depends on the columns its outputs come from (when
 * `values`) and on every column its predicates name (which rows there are).
 */
function subqueryLineage(
  w: Walker,
  node: unknown,
  scope: Scope | null,
  depth: number,
  values: boolean,
): Lin {
  const predicates = new Set<string>();
  w.b.collectors.push(predicates);
  let slots: ReturnType<Walker['query']>['slots'];
  try {
    slots = w.query(w, node, scope, depth).slots;
  } finally {
    w.b.collectors.pop();
  }
  const sink = newSink();
  if (values) for (const s of slots ?? []) addLin(sink, s.lin);
  for (const p of predicates) sink.sources.add(p);
  return sinkLin(sink);
}

/** Walks an expression into a fresh sink (on top of the enclosing ones, which see it too). */
export function walkInto(
  w: Walker,
  node: unknown,
  scope: Scope | null,
  depth: number,
  sink: Sink = newSink(),
): Sink {
  w.b.sinks.push(sink);
  try {
    walkExpr(w, node, scope, depth);
  } finally {
    w.b.sinks.pop();
  }
  return sink;
}

/** Walks a predicate (WHERE, ON, HAVING, ...): every column it names is a predicate column. */
export function walkPredicate(w: Walker, node: unknown, scope: Scope | null, depth: number): void {
  if (node === undefined) return;
  w.b.predicate(walkInto(w, node, scope, depth).sources);
}

/** Walks every child of a node whose fields carry no special meaning. */
export function walkFields(w: Walker, obj: AstObject, scope: Scope | null, depth: number): void {
  if (depth > w.maxDepth) {
    w.b.flag('too_deep');
    return;
  }
  for (const k in obj) {
    const f = obj[k];
    if (f !== null && typeof f === 'object') walkExpr(w, f, scope, depth + 1);
  }
}

function addColumn(w: Walker, rel: Rel, column: string): void {
  if (rel.kind === 'table') w.b.read(rel.schema, rel.table).add(column);
  else for (const m of rel.members) addColumn(w, m, column);
}

/** `SELECT *`: every relation of the innermost query level with relations. */
function starAll(w: Walker, scope: Scope | null): void {
  for (let s = scope; s !== null; s = s.parent) {
    if (s.rels.length === 0) continue;
    for (const r of s.rels) if (r.kind === 'table') addColumn(w, r, '*');
    return;
  }
}

/**
 * An unqualified column: attributed to every table of its level and, since a correlated
 * reference to an outer level is possible, to outer levels too, until a level whose derived
 * relation (subquery, CTE) is known to have the column.
 * SECURITY: over-attribution is the fail-closed direction; a predicate on a masked column of an
 * outer query must never go unseen.
 */
export function resolveUnqualified(w: Walker, scope: Scope | null, column: string): void {
  const whole = findRel(scope, undefined, column);
  if (whole !== undefined) addColumn(w, whole, '*');
  for (let s = scope; s !== null; s = s.parent) {
    let definite = false;
    for (const r of s.rels) {
      if (r.kind === 'table') addColumn(w, r, column);
      else if (r.members.length === 0 && r.columns?.includes(column)) definite = true;
    }
    if (definite) return;
  }
}

export function resolveColumnRef(w: Walker, ref: ColumnRef, scope: Scope | null): void {
  const fields = ref.fields ?? [];
  const star = nodeType(fields[fields.length - 1]) === 'A_Star';
  const names = strings(fields);
  const col = star ? '*' : (names[names.length - 1] ?? '*');
  if (fields.length === 1) {
    if (star) starAll(w, scope);
    else resolveUnqualified(w, scope, col);
    return;
  }
  const quals = star ? names : names.slice(0, -1);
  // rel.col, schema.rel.col, db.schema.rel.col; otherwise a composite column's field.
  let rel: Rel | undefined;
  if (quals.length === 1) rel = findRel(scope, undefined, quals[0] ?? '');
  else if (quals.length >= 2) {
    rel = findRel(scope, quals[quals.length - 2], quals[quals.length - 1] ?? '');
  }
  if (rel !== undefined) {
    addColumn(w, rel, col);
    return;
  }
  const first = names[0] ?? '';
  const firstRel = findRel(scope, undefined, first);
  if (firstRel !== undefined) addColumn(w, firstRel, names[1] ?? '*');
  else resolveUnqualified(w, scope, first);
}

const TRUE_WORDS: ReadonlySet<string> = new Set(['true', 't', 'on', 'yes', 'y', '1']);

function walkFuncCall(w: Walker, f: FuncCall, scope: Scope | null, depth: number): void {
  const name = resolveFunction(strings(f.funcname), w.path);
  w.b.functions.add(name);
  const cls = classifyFunction(name);
  if (cls !== null) w.b.flag(cls);
  if (cls === 'set_config') setConfig(w, f.args ?? []);
  walkExpr(w, f.args, scope, depth + 1);
  walkExpr(w, f.agg_order, scope, depth + 1);
  walkPredicate(w, f.agg_filter, scope, depth + 1);
  // `OVER w` names a window of the WINDOW clause; `OVER (w ORDER BY x)` refines one.
  if (f.over !== undefined) walkWindow(w, f.over, f.over.refname ?? f.over.name, scope, depth + 1);
}

/**
 * A window (in OVER or in WINDOW): its PARTITION BY / ORDER BY are predicates, and the window
 * function's value depends on them (a rank reveals the order). Returns the window's lineage.
 */
export function walkWindow(
  w: Walker,
  def: WindowDef,
  ref: string | undefined,
  scope: Scope | null,
  depth: number,
): Lin {
  const sink = newSink();
  w.b.sinks.push(sink);
  try {
    walkFields(w, def as AstObject, scope, depth);
    const base = ref === undefined ? undefined : windowLineage(scope, ref);
    if (base !== undefined) w.b.use(base);
  } finally {
    w.b.sinks.pop();
  }
  w.b.predicate(sink.sources);
  return sinkLin(sink);
}

/** set_config(name, value, is_local): a SET in disguise. */
function setConfig(w: Walker, args: readonly unknown[]): void {
  const name = constString(args[0]);
  const value = constString(args[1]);
  const localText = constString(args[2]);
  const local = localText != null && TRUE_WORDS.has(localText.toLowerCase());
  if (typeof name !== 'string' || value === undefined || localText === undefined) {
    // SECURITY: we cannot see which parameter or value: treat as SQL we cannot see through.
    w.b.flag('dynamic_sql');
  }
  const lname = typeof name === 'string' ? name.toLowerCase() : '*';
  w.b.setting({ name: lname, value: value ?? null, local });
  if (breaksLexing(lname, value)) w.b.flag('dynamic_sql');
  if (lname === 'role' || lname === '*') w.b.flag('role_change');
  if (lname === 'session_authorization' || lname === '*') {
    w.b.flag('session_authorization');
    w.b.flag('role_change');
  }
  if (lname === 'search_path' || lname === '*') {
    w.b.flag('search_path_change');
    const path = typeof value === 'string' ? parseSearchPath(value) : null;
    if (path === null) w.b.flag('dynamic_sql');
    else w.b.effects.push({ type: 'SetSearchPath', path, local });
  }
}
