// Target lists (SELECT, RETURNING, VALUES) walked one item at a time into output slots, and the
// ORDER BY / GROUP BY / DISTINCT ON items whose output names and positions refer to those slots.
import type { ColumnRef, ResTarget, TypeName } from 'libpg-query';
import { nodeType, type Scope, strings, unwrap, type Walker } from './builder.js';
import { combineSetop, type Lin, type Slot, sinkLin, sourcesOf } from './lineage.js';
import { resolveColumnRef, walkInto, walkPredicate } from './walk-expr.js';
import { refLineage, starSlots } from './walk-lineage.js';

/**
 * The output name PostgreSQL gives an unnamed target (FigureColname), when it is one of the cases
 * modelled here; null otherwise. Strength 2 names win over a cast's type name.
 */
function figure(node: unknown): { name: string; strong: boolean } | null {
  switch (nodeType(node)) {
    case 'ColumnRef': {
      const fields = unwrap<ColumnRef>(node, 'ColumnRef')?.fields ?? [];
      const last = fields[fields.length - 1];
      return nodeType(last) === 'String' ? { name: strings([last])[0] ?? '', strong: true } : null;
    }
    case 'FuncCall': {
      const names = strings(unwrap<{ funcname?: unknown[] }>(node, 'FuncCall')?.funcname);
      const name = names[names.length - 1];
      return name === undefined ? null : { name, strong: true };
    }
    case 'A_Indirection': {
      const ind = unwrap<{ arg?: unknown; indirection?: unknown[] }>(node, 'A_Indirection');
      const fields = strings(ind?.indirection);
      const last = fields[fields.length - 1];
      return last !== undefined ? { name: last, strong: true } : figure(ind?.arg);
    }
    case 'TypeCast': {
      const tc = unwrap<{ arg?: unknown; typeName?: TypeName }>(node, 'TypeCast');
      const inner = figure(tc?.arg);
      if (inner?.strong) return inner;
      // Only a constant or parameter is known to give no name of its own.
      const t = nodeType(tc?.arg);
      if (t !== 'A_Const' && t !== 'ParamRef') return null;
      const names = strings(tc?.typeName?.names);
      const name = names[names.length - 1];
      return name === undefined ? null : { name, strong: false };
    }
    default:
      return null;
  }
}

function isIndirectionStar(node: unknown): boolean {
  const ind = unwrap<{ indirection?: unknown[] }>(node, 'A_Indirection');
  const last = ind?.indirection?.[(ind.indirection?.length ?? 0) - 1];
  return nodeType(last) === 'A_Star';
}

/** Walks a target list (reads, functions, flags) and returns one slot per output column. */
export function targetSlots(
  w: Walker,
  targets: readonly unknown[] | undefined,
  level: Scope,
  depth: number,
): Slot[] {
  const out: Slot[] = [];
  for (const t of targets ?? []) {
    const rt = unwrap<ResTarget>(t, 'ResTarget');
    const ref = unwrap<ColumnRef>(rt?.val, 'ColumnRef');
    const star = ref !== undefined && nodeType(ref.fields?.[ref.fields.length - 1]) === 'A_Star';
    if (rt !== undefined && ref !== undefined && !star && rt.indirection === undefined) {
      // A plain column (within the depth the walk below checks): its reads and its lineage,
      // resolved once, where walking it as an expression would resolve its lineage twice.
      if (depth + 2 <= w.maxDepth) {
        resolveColumnRef(w, ref, level);
        out.push({
          name: rt.name ?? figure(rt.val)?.name ?? null,
          lin: refLineage(level, ref),
          wide: false,
        });
        continue;
      }
    }
    const sink = walkInto(w, t, level, depth);
    if (rt === undefined) {
      out.push({ name: null, lin: { kind: 'opaque', inputs: [] }, wide: true });
    } else if (star) {
      out.push(...starSlots(level, ref));
    } else if (isIndirectionStar(rt.val)) {
      // `(c).*`: every field of a composite value, each depending on all of it.
      out.push({ name: null, lin: sinkLin(sink), wide: true });
    } else {
      const name = rt.name ?? figure(rt.val)?.name ?? null;
      const lin = ref !== undefined ? refLineage(level, ref) : sinkLin(sink);
      out.push({ name, lin, wide: false });
    }
  }
  return out;
}

/** VALUES: column1, column2, ...; each position depends on that position of every row. */
export function valuesSlots(
  w: Walker,
  lists: readonly unknown[],
  scope: Scope | null,
  depth: number,
): Slot[] {
  let acc: Slot[] | null = null;
  for (const row of lists) {
    const items = unwrap<{ items?: unknown[] }>(row, 'List')?.items ?? [row];
    const slots = items.map(
      (item, i): Slot => ({
        name: `column${i + 1}`,
        lin: sinkLin(walkInto(w, item, scope, depth + 1)),
        wide: false,
      }),
    );
    acc = acc === null ? slots : combineSetop(acc, slots);
  }
  return acc ?? [];
}

/** The 1-based position an integer constant names, or undefined. */
function position(node: unknown): number | undefined {
  const c = unwrap<{ ival?: { ival?: number } }>(node, 'A_Const');
  return c?.ival === undefined ? undefined : (c.ival.ival ?? 0);
}

function slotSources(w: Walker, lins: readonly Lin[]): void {
  for (const l of lins) w.b.predicate(sourcesOf(l));
}

/** The output a position names; every output when positions are unknown (a star before it). */
function byPosition(slots: readonly Slot[], pos: number): Lin[] {
  const upTo = slots.slice(0, pos);
  if (upTo.length < pos || upTo.some((s) => s.wide)) return slots.map((s) => s.lin);
  const s = slots[pos - 1];
  return s === undefined ? [] : [s.lin];
}

/** The outputs a name may refer to (unnamed ones may be it too). */
function byName(slots: readonly Slot[], name: string): Lin[] {
  const exact = slots.filter((s) => s.name === name);
  const maybe = exact.length > 0 ? exact : slots.filter((s) => s.name === null || s.wide);
  return maybe.map((s) => s.lin);
}

function bareName(node: unknown): string | undefined {
  const fields = unwrap<ColumnRef>(node, 'ColumnRef')?.fields;
  return fields?.length === 1 ? strings(fields)[0] : undefined;
}

export type ClauseKind = 'order' | 'group' | 'distinct';

/**
 * One ORDER BY / GROUP BY / DISTINCT ON item, a predicate. A position (`ORDER BY 2`) names an
 * output; so does a bare output name in ORDER BY (instead of an input column) and, since
 * PostgreSQL may resolve it either way, in GROUP BY and DISTINCT ON (both count).
 */
export function walkClauseItem(
  w: Walker,
  item: unknown,
  kind: ClauseKind,
  level: Scope,
  outputs: { readonly names: ReadonlySet<string>; readonly slots: readonly Slot[] },
  depth: number,
): void {
  const node = kind === 'order' ? unwrap<{ node?: unknown }>(item, 'SortBy')?.node : item;
  const grouping = unwrap<{ content?: unknown[] }>(node, 'GroupingSet');
  if (grouping !== undefined) {
    for (const c of grouping.content ?? []) walkClauseItem(w, c, kind, level, outputs, depth + 1);
    return;
  }
  const pos = position(node);
  if (pos !== undefined) {
    // The facts now depend on a literal: never reuse them for another position.
    w.b.literalDependent = true;
    slotSources(w, byPosition(outputs.slots, pos));
    return;
  }
  const name = bareName(node);
  const isOutput = name !== undefined && outputs.names.has(name);
  if (isOutput) slotSources(w, byName(outputs.slots, name));
  // ORDER BY an output name refers to that output column only.
  if (!(isOutput && kind === 'order')) walkPredicate(w, item, level, depth + 1);
}
