// Utility statements that wrap or stand for another statement (COPY, EXPLAIN, PREPARE/EXECUTE,
// DECLARE/FETCH/CLOSE) and those that change session state (DEALLOCATE, DISCARD).
import type {
  ClosePortalStmt,
  CopyStmt,
  DeallocateStmt,
  DeclareCursorStmt,
  DiscardStmt,
  ExecuteStmt,
  ExplainStmt,
  FetchStmt,
  PrepareStmt,
} from 'libpg-query';
import { childWalker, strings, unwrap, valueText, type Walker } from './builder.js';
import type { OutputLineage } from './facts.js';
import { exportSlots } from './lineage.js';
import { isCatalogSchema, resolveRelation } from './names.js';
import { walkExpr } from './walk-expr.js';

/** COPY: TO STDOUT sends the table's (or the query's) rows to the client: those are its outputs. */
export function walkCopy(w: Walker, c: CopyStmt, depth: number): string {
  if (c.is_program) w.b.flag('copy_program');
  else if (c.filename !== undefined) w.b.flag('copy_file');
  else w.b.flag(c.is_from ? 'copy_from_stdin' : 'copy_to_stdout');
  const toClient = !c.is_program && c.filename === undefined && !c.is_from;
  if (c.relation !== undefined) {
    const r = resolveRelation(c.relation.schemaname, c.relation.relname ?? '', w.path);
    if (isCatalogSchema(r.schema)) w.b.flag('system_catalog');
    const cols = strings(c.attlist);
    const columns = cols.length > 0 ? cols : ['*'];
    if (c.is_from) {
      w.b.write(r.schema, r.table, 'copy_from', false, columns);
      // COPY FROM ... WHERE filters incoming rows: it reads nothing stored.
      walkExpr(w, c.whereClause, null, depth + 1);
    } else {
      const read = w.b.read(r.schema, r.table);
      for (const col of columns) read.add(col);
      const table = `${r.schema}.${r.table}`;
      const outputs: OutputLineage[] =
        cols.length > 0
          ? cols.map((col) => Object.freeze({ kind: 'column', source: `${table}.${col}` }))
          : [Object.freeze({ kind: 'star', table })];
      if (toClient) w.b.outputs = Object.freeze(outputs);
    }
  }
  if (c.query !== undefined) {
    const shape = w.query(w, c.query, null, depth + 1);
    if (toClient) w.b.outputs = exportSlots(shape.slots);
  }
  return 'COPY';
}

const FALSE_WORDS: ReadonlySet<string> = new Set(['false', 'f', 'off', 'no', 'n', '0']);

/** EXPLAIN runs nothing unless ANALYZE: then the inner statement's reads and writes count. */
export function walkExplain(w: Walker, e: ExplainStmt, depth: number): string {
  w.b.flag('explain');
  let analyze = false;
  for (const o of e.options ?? []) {
    const d = unwrap<{ defname?: string; arg?: unknown }>(o, 'DefElem');
    if (d?.defname !== 'analyze') continue;
    // A bare ANALYZE has no argument; anything but a false-like word turns it on (fail closed).
    const text = d.arg === undefined ? 'true' : (valueText(d.arg) ?? 'true');
    analyze = !FALSE_WORDS.has(text.toLowerCase());
  }
  if (analyze) w.b.flag('explain_analyze');
  const inner = childWalker(w);
  const command = w.statement(inner, e.query, depth + 1);
  w.b.mergeFacts(inner.b.build(command), analyze);
  return 'EXPLAIN';
}

export function walkPrepare(w: Walker, p: PrepareStmt, depth: number): string {
  const inner = childWalker(w);
  const command = w.statement(inner, p.query, depth + 1);
  const body = inner.b.build(command);
  w.b.mergeFacts(body, true);
  w.b.flag('prepare');
  w.b.effects.push({ type: 'Prepare', name: p.name ?? '', body, outputs: inner.b.outputs });
  return 'PREPARE';
}

/** EXECUTE: the prepared statement's facts; an unknown name fails closed. */
export function walkExecute(w: Walker, x: ExecuteStmt, depth: number): string {
  const stored = w.prepared(x.name ?? '');
  if (stored === undefined) {
    w.b.flag('unknown_node');
    return 'UNKNOWN';
  }
  w.b.mergeFacts(stored.facts, true);
  w.b.outputs = stored.outputs;
  w.b.flag('execute');
  walkExpr(w, x.params, null, depth + 1);
  return 'EXECUTE';
}

export function walkDeallocate(w: Walker, d: DeallocateStmt): string {
  w.b.flag('deallocate');
  const all = d.isall === true || d.name === undefined;
  w.b.effects.push({ type: 'Deallocate', name: all ? null : (d.name ?? null), all });
  return 'DEALLOCATE';
}

export function walkDeclare(w: Walker, d: DeclareCursorStmt, depth: number): string {
  const inner = childWalker(w);
  const command = w.statement(inner, d.query, depth + 1);
  const body = inner.b.build(command);
  w.b.mergeFacts(body, true);
  w.b.flag('cursor');
  w.b.effects.push({
    type: 'DeclareCursor',
    name: d.portalname ?? '',
    body,
    outputs: inner.b.outputs,
  });
  return 'DECLARE CURSOR';
}

/** FETCH / MOVE: the cursor query's facts; an unknown cursor fails closed. */
export function walkFetch(w: Walker, f: FetchStmt): string {
  const stored = w.cursors(f.portalname ?? '');
  if (stored === undefined) {
    w.b.flag('unknown_node');
    return 'UNKNOWN';
  }
  w.b.mergeFacts(stored.facts, true);
  w.b.flag('cursor');
  // MOVE repositions the cursor and returns no rows.
  if (!f.ismove) w.b.outputs = stored.outputs;
  return f.ismove ? 'MOVE' : 'FETCH';
}

export function walkClose(w: Walker, c: ClosePortalStmt): string {
  w.b.flag('cursor');
  const all = c.portalname === undefined;
  w.b.effects.push({ type: 'CloseCursor', name: c.portalname ?? null, all });
  return 'CLOSE CURSOR';
}

const DISCARD_TARGETS = {
  DISCARD_ALL: 'all',
  DISCARD_PLANS: 'plans',
  DISCARD_SEQUENCES: 'sequences',
  DISCARD_TEMP: 'temp',
} as const;

export function walkDiscard(w: Walker, d: DiscardStmt): string {
  const target = DISCARD_TARGETS[d.target ?? 'DISCARD_ALL'] ?? 'all';
  // DISCARD ALL includes RESET ALL, so search_path returns to its startup value.
  if (target === 'all') w.b.flag('search_path_change');
  if (target === 'all') w.b.flag('deallocate');
  w.b.effects.push({ type: 'Discard', target });
  return `DISCARD ${target.toUpperCase()}`;
}
