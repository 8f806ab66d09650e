// Output lineage values: where a value of a query comes from, how expressions combine it, and the
// contract form (OutputLineage) the gateway masks by. Pure: no AST, no scopes.
import type { OutputLineage } from './facts.js';

/**
 * Lineage inside the analyzer: like OutputLineage, but an opaque value keeps the columns known to
 * feed it (`inputs`), so a predicate on it still names them.
 */
export type Lin =
  | { readonly kind: 'column'; readonly source: string }
  | { readonly kind: 'derived'; readonly sources: readonly string[] }
  | { readonly kind: 'star'; readonly table: string }
  | { readonly kind: 'opaque'; readonly inputs: readonly string[] };

/** One output column of a query (or, when `wide`, an unknown number of them). */
export interface Slot {
  /** Output column name; null when unknown (PostgreSQL's generated names are not modelled). */
  readonly name: string | null;
  readonly lin: Lin;
  /** Covers an unknown number of columns: a star, `(c).*`, or a star over unknown columns. */
  readonly wide: boolean;
}

/** Collects the lineage of every column an expression names while the walker visits it. */
export interface Sink {
  readonly sources: Set<string>;
  opaque: boolean;
}

export const CONSTANT: Lin = Object.freeze({ kind: 'derived', sources: Object.freeze([]) });

export function newSink(): Sink {
  return { sources: new Set(), opaque: false };
}

/** The columns a lineage depends on (a star: every column of its table; opaque: its known inputs). */
export function sourcesOf(lin: Lin): readonly string[] {
  switch (lin.kind) {
    case 'column':
      return [lin.source];
    case 'derived':
      return lin.sources;
    case 'star':
      return [`${lin.table}.*`];
    case 'opaque':
      return lin.inputs;
  }
}

export function addLin(sink: Sink, lin: Lin): void {
  switch (lin.kind) {
    case 'column':
      sink.sources.add(lin.source);
      return;
    case 'derived':
      for (const s of lin.sources) sink.sources.add(s);
      return;
    case 'star':
      sink.sources.add(`${lin.table}.*`);
      return;
    case 'opaque':
      for (const s of lin.inputs) sink.sources.add(s);
      sink.opaque = true;
  }
}

/**
 * Sorted, deduplicated sources; "schema.table.column" entries are dropped when
 * "schema.table.*" is present (every column already counts).
 */
export function normalizeSources(sources: Iterable<string>): string[] {
  const all = sources instanceof Set ? (sources as ReadonlySet<string>) : new Set(sources);
  // One source has nothing to be dropped for (a star cannot cover itself).
  if (all.size <= 1) return [...all];
  // Only an entry ending in ".*" can cover another: without one, nothing is dropped.
  let stars = false;
  for (const s of all) {
    if (s.charCodeAt(s.length - 1) === 42 && s.charCodeAt(s.length - 2) === 46) {
      stars = true;
      break;
    }
  }
  if (!stars) return [...all].sort();
  const out: string[] = [];
  for (const s of all) {
    const dot = s.lastIndexOf('.');
    const star = s.length === dot + 2 && s.charCodeAt(dot + 1) === 42;
    if (!star && all.has(`${s.slice(0, dot)}.*`)) continue;
    out.push(s);
  }
  return out.sort();
}

export function sinkLin(sink: Sink): Lin {
  const sources = normalizeSources(sink.sources);
  return sink.opaque ? { kind: 'opaque', inputs: sources } : { kind: 'derived', sources };
}

/** One lineage for a value that may come from any of several (a single one is kept as it is). */
export function mergeLins(lins: readonly Lin[]): Lin {
  if (lins.length === 1) return lins[0] as Lin;
  const sink = newSink();
  for (const l of lins) addLin(sink, l);
  return sinkLin(sink);
}

/** The same columns, but their values can no longer be told apart. */
export function opaqueOf(lin: Lin): Lin {
  return { kind: 'opaque', inputs: normalizeSources(sourcesOf(lin)) };
}

/** Everything a list of output columns depends on (a whole-row reference to them). */
export function wholeOf(slots: readonly Slot[]): Lin {
  return mergeLins(slots.length === 0 ? [CONSTANT] : slots.map((s) => s.lin));
}

/** Columns of unknown origin and count: one wide opaque slot. */
export function unknownSlots(inputs: readonly string[] = []): Slot[] {
  return [{ name: null, lin: { kind: 'opaque', inputs }, wide: true }];
}

/**
 * UNION / INTERSECT / EXCEPT: position-wise union of both sides; once either side has a slot of
 * unknown width, every later position is unknown.
 */
export function combineSetop(left: readonly Slot[], right: readonly Slot[]): Slot[] {
  const out: Slot[] = [];
  const n = Math.max(left.length, right.length);
  for (let i = 0; i < n; i++) {
    const l = left[i];
    const r = right[i];
    if (l === undefined || r === undefined || l.wide || r.wide) {
      const rest = [...left.slice(i), ...right.slice(i)].map((s) => s.lin);
      out.push({
        name: null,
        lin: opaqueOf(mergeLins(rest.length === 0 ? [CONSTANT] : rest)),
        wide: true,
      });
      break;
    }
    const sink = newSink();
    addLin(sink, l.lin);
    addLin(sink, r.lin);
    out.push({ name: l.name, lin: sinkLin(sink), wide: false });
  }
  return out;
}

/** Renames the first columns (`AS s(a, b)`); when a wide slot comes first, positions are unknown. */
export function renameSlots(slots: readonly Slot[], names: readonly string[]): Slot[] {
  if (names.length === 0) return [...slots];
  const firstWide = slots.findIndex((s) => s.wide);
  if (firstWide >= 0 && firstWide < names.length) {
    return slots.map((s) => ({ ...s, name: null }));
  }
  return slots.map((s, i) => (i < names.length ? { ...s, name: names[i] ?? null } : s));
}

export function exportLineage(lin: Lin): OutputLineage {
  switch (lin.kind) {
    case 'column':
      return Object.freeze({ kind: 'column', source: lin.source });
    case 'derived':
      return Object.freeze({
        kind: 'derived',
        sources: Object.freeze(normalizeSources(lin.sources)),
      });
    case 'star':
      return Object.freeze({ kind: 'star', table: lin.table });
    case 'opaque':
      return Object.freeze({ kind: 'opaque' });
  }
}

/** The contract form of a query's outputs, frozen (cached statements share it). */
export function exportSlots(slots: readonly Slot[] | null): readonly OutputLineage[] | null {
  return slots === null ? null : Object.freeze(slots.map((s) => exportLineage(s.lin)));
}
