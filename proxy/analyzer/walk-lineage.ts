// Resolves the lineage of column references, whole-row references and stars against the FROM
// scopes, the way walk-expr.ts resolves reads: through aliases, join aliases, derived tables and CTEs.
import type { ColumnRef } from 'libpg-query';
import { findRel, nodeType, type Rel, type Scope, strings } from './builder.js';
import { CONSTANT, type Lin, mergeLins, type Slot, unknownSlots, wholeOf } from './lineage.js';

type TableRel = Extract<Rel, { kind: 'table' }>;

function tableName(r: TableRel): string {
  return `${r.schema}.${r.table}`;
}

/** Relations a `*` or a join alias expands to: a join alias's members are listed beside it. */
function expandable(rels: readonly Rel[]): readonly Rel[] {
  for (const r of rels) {
    if (r.kind !== 'table' && r.members.length > 0) {
      return rels.filter((x) => x.kind === 'table' || x.members.length === 0);
    }
  }
  // Without a join alias (the usual case) every relation counts: no copy.
  return rels;
}

export interface ColumnLookup {
  /** null when the relation is known not to have the column. */
  readonly lin: Lin | null;
  /** Whether the relation is known to have it (a derived table naming it). */
  readonly definite: boolean;
}

const UNKNOWN: Lin = Object.freeze({ kind: 'opaque', inputs: Object.freeze([]) });

/** Column `name` of a relation. */
export function columnOf(rel: Rel, name: string): ColumnLookup {
  if (rel.kind === 'table') {
    // A renamed column could be any column of the table.
    const lin: Lin = rel.renamed
      ? { kind: 'derived', sources: [`${tableName(rel)}.*`] }
      : { kind: 'column', source: `${tableName(rel)}.${name}` };
    return { lin, definite: false };
  }
  if (rel.members.length > 0) {
    const lins: Lin[] = [];
    let definite = false;
    for (const m of expandable(rel.members)) {
      const c = columnOf(m, name);
      if (c.lin !== null) lins.push(c.lin);
      definite ||= c.definite;
    }
    return { lin: lins.length === 0 ? null : mergeLins(lins), definite };
  }
  if (rel.slots === null) return { lin: UNKNOWN, definite: false };
  const exact = rel.slots.filter((s) => s.name === name).map((s) => s.lin);
  if (exact.length > 0) return { lin: mergeLins(exact), definite: true };
  const maybe: Lin[] = [];
  for (const s of rel.slots) {
    if (s.lin.kind === 'star') maybe.push({ kind: 'column', source: `${s.lin.table}.${name}` });
    else if (s.wide || s.name === null) maybe.push(s.lin);
  }
  return { lin: maybe.length === 0 ? null : mergeLins(maybe), definite: false };
}

/** A relation used as a value (`c`, `c.*`, `row_to_json(c)`): every column of it. */
export function wholeRowOf(rel: Rel): Lin {
  if (rel.kind === 'table') return { kind: 'derived', sources: [`${tableName(rel)}.*`] };
  if (rel.members.length > 0) {
    const members = expandable(rel.members);
    return members.length === 0 ? UNKNOWN : mergeLins(members.map(wholeRowOf));
  }
  return rel.slots === null ? UNKNOWN : wholeOf(rel.slots);
}

/** The output columns `rel.*` expands to. */
export function starOf(rel: Rel): Slot[] {
  if (rel.kind === 'table') {
    return [{ name: null, lin: { kind: 'star', table: tableName(rel) }, wide: true }];
  }
  if (rel.members.length > 0) {
    const members = expandable(rel.members);
    return members.length === 0 ? unknownSlots() : members.flatMap(starOf);
  }
  return rel.slots === null ? unknownSlots() : [...rel.slots];
}

/** The relations a bare `*` covers: those of the innermost level that has any. */
function starLevel(scope: Scope | null): readonly Rel[] | null {
  for (let s = scope; s !== null; s = s.parent) {
    if (s.rels.length > 0) return expandable(s.rels);
  }
  return null;
}

/** `SELECT *` / `SELECT t.*` in a target list. */
export function starSlots(scope: Scope | null, ref: ColumnRef): Slot[] {
  const fields = ref.fields ?? [];
  if (fields.length === 1) {
    const rels = starLevel(scope);
    return rels === null || rels.length === 0 ? unknownSlots() : rels.flatMap(starOf);
  }
  const rel = qualifiedRel(scope, strings(fields));
  return rel === undefined ? unknownSlots() : starOf(rel);
}

function qualifiedRel(scope: Scope | null, quals: readonly string[]): Rel | undefined {
  if (quals.length === 1) return findRel(scope, undefined, quals[0] ?? '');
  if (quals.length >= 2) {
    return findRel(scope, quals[quals.length - 2], quals[quals.length - 1] ?? '');
  }
  return undefined;
}

/**
 * An unqualified name: the whole row of a relation so named, and the column of every relation of
 * its level and of outer levels (a correlated reference), until a level known to have it.
 * SECURITY: every candidate counts, as for reads: a value that may come from a masked column is
 * treated as coming from it.
 */
export function unqualifiedLineage(scope: Scope | null, name: string): Lin {
  const lins: Lin[] = [];
  const whole = findRel(scope, undefined, name);
  if (whole !== undefined) lins.push(wholeRowOf(whole));
  for (let s = scope; s !== null; s = s.parent) {
    let definite = false;
    for (const r of expandable(s.rels)) {
      const c = columnOf(r, name);
      if (c.lin !== null) lins.push(c.lin);
      definite ||= c.definite;
    }
    if (definite) break;
  }
  return lins.length === 0 ? UNKNOWN : mergeLins(lins);
}

/** A field of a composite value is derived from it, never the plain column itself. */
function fieldOf(lin: Lin): Lin {
  return lin.kind === 'column' ? { kind: 'derived', sources: [lin.source] } : lin;
}

/** Lineage of a column reference used as a value (a `*` in an expression: the whole row). */
export function refLineage(scope: Scope | null, ref: ColumnRef): Lin {
  const fields = ref.fields ?? [];
  const star = nodeType(fields[fields.length - 1]) === 'A_Star';
  const names = strings(fields);
  if (fields.length === 1) {
    if (!star) return unqualifiedLineage(scope, names[0] ?? '');
    const rels = starLevel(scope);
    return rels === null || rels.length === 0 ? CONSTANT : mergeLins(rels.map(wholeRowOf));
  }
  const quals = star ? names : names.slice(0, -1);
  const rel = qualifiedRel(scope, quals);
  if (rel !== undefined) {
    if (star) return wholeRowOf(rel);
    const c = columnOf(rel, names[names.length - 1] ?? '');
    return c.lin ?? wholeRowOf(rel);
  }
  // Not a relation: `col.field` or `rel.col.field`, a field of a composite column.
  const first = names[0] ?? '';
  const firstRel = findRel(scope, undefined, first);
  if (firstRel === undefined) return fieldOf(unqualifiedLineage(scope, first));
  const c = columnOf(firstRel, names[1] ?? '');
  return fieldOf(c.lin ?? wholeRowOf(firstRel));
}

/** The lineage of a named window, innermost level first. */
export function windowLineage(scope: Scope | null, name: string): Lin | undefined {
  for (let s = scope; s !== null; s = s.parent) {
    const lin = s.windows?.get(name);
    if (lin !== undefined) return lin;
  }
  return undefined;
}
