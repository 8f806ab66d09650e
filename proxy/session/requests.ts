// The bookkeeping of requests in flight: one Request per upstream round trip (Query, Sync, function
// call), one Slot per judged statement in it, their results, and the small pure helpers around them.

import type { AnalyzedStatement, Effect, StoredQuery } from '../analyzer/facts.js';
import type { Verdict } from '../decider/judge.js';
import type { ColumnOrigins } from '../filter/column-origins.js';
import type { CopyPlan } from '../filter/copy-masker.js';
import type { FieldPlan, OutputLineage } from '../filter/row-masker.js';
import { type PreparedEntry, RepeatedText } from './extended-state.js';
import type { StatementEvent } from './gate.js';

/** A SQL-level prepared statement with what re-reading it under another search_path needs. */
export type SqlPrepared = StoredQuery & {
  readonly text: string;
  readonly searchPath: readonly string[];
};

/** Transaction brackets seen in a request, so session state follows commit and rollback. */
export type TxMarker =
  | { readonly type: 'Begin' }
  | { readonly type: 'Commit' }
  | { readonly type: 'Rollback' };

/** What one statement's execution answered: its command tag and rows, or its SQLSTATE. */
export interface StatementResult {
  readonly tag: string | null;
  readonly rows: number | null;
  readonly sqlstate: string | null;
}

/** One judged request (a Query, or an Execute) once its answer is complete. */
export interface StatementDone {
  /** null for a request the gate passed without judging it (an Execute of an unknown portal). */
  readonly event: StatementEvent | null;
  /** Epoch milliseconds when the decision was made. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** One entry per statement that answered, in order; fewer than statements when one failed. */
  readonly results: readonly StatementResult[];
  /** Columns (schema.table.column, or output:<name> for derived outputs) whose values were masked. */
  readonly masked: readonly string[];
}

export interface Slot {
  readonly event: StatementEvent | null;
  readonly startedAt: number;
  readonly started: number;
  /** Answers so far; add with addResult (the first one replaces the shared empty list). */
  results: StatementResult[];
  /** No more results belong to this slot (it failed, or a later slot started answering). */
  closed: boolean;
  /** Extended protocol: the prepared statement whose portal this Execute runs. */
  readonly entry: PreparedEntry | null;
  /** Simple protocol: the RowDescription of the statement now answering. */
  rowDescription: Buffer | null;
  /** The field plan for the rows now answering: undefined until computed, null when nothing is masked. */
  fieldPlan: FieldPlan | null | undefined;
  /** The row description now answering was checked against the cached column origins. */
  originsChecked: boolean;
  /** Qualified columns this slot masked, for audit (null until the first one). */
  masked: Set<string> | null;
  /** The plan for the COPY TO STDOUT now answering, once computed. */
  copyPlan: CopyPlan | null | undefined;
}

export interface Request {
  /** A COMMIT from a healthy transaction completed in this request. */
  committed: boolean;
  /** search_path before this request's first effect (restored when an implicit transaction fails). */
  pathBefore: readonly string[] | null;
  failed: boolean;
  /** The judged statements; add with addSlot (the first one replaces the shared empty list). */
  slots: Slot[];
}

/**
 * The shared empty list of a request without slots or a slot without results. Frozen: it is never
 * added to; the first item gets a list of its own, sized for one (not grown from empty), since
 * nearly every request has one statement with one answer.
 */
const NONE: never[] = Object.freeze([]) as unknown as never[];

export const newRequest = (): Request => ({
  committed: false,
  pathBefore: null,
  failed: false,
  slots: NONE,
});

/** An empty answer list for a new slot. */
export const noResults = (): StatementResult[] => NONE;

export function addSlot(request: Request, slot: Slot): void {
  if (request.slots === NONE) request.slots = [slot];
  else request.slots.push(slot);
}

export function addResult(slot: Slot, result: StatementResult): void {
  if (slot.results === NONE) slot.results = [result];
  else slot.results.push(result);
}

/** Rows from a CommandComplete tag: the last number ("INSERT 0 3" → 3, "SELECT 5" → 5). */
export function rowsOfTag(tag: string): number | null {
  const space = tag.lastIndexOf(' ');
  if (space < 0) return null;
  const n = Number(tag.slice(space + 1));
  return Number.isInteger(n) ? n : null;
}

/**
 * Reads CommandComplete tags (the body up to its NUL). A session's answers repeat ("SELECT 1", "UPDATE 1"):
 * the same bytes again reuse the last result (string and row count) instead of decoding it again.
 */
export class TagReader {
  /** The result of the last tag read: the tag, its rows (see rowsOfTag), no SQLSTATE. Frozen, shared. */
  result: StatementResult = NO_TAG;
  readonly #text = new RepeatedText();

  get tag(): string {
    return this.result.tag ?? '';
  }

  get rows(): number | null {
    return this.result.rows;
  }

  read(src: Buffer, start: number, end: number): void {
    let stop = start;
    while (stop < end && src[stop] !== 0) stop++;
    const tag = this.#text.read(src, start, stop);
    if (tag !== this.result.tag)
      this.result = Object.freeze({ tag, rows: rowsOfTag(tag), sqlstate: null });
  }
}

const NO_TAG: StatementResult = Object.freeze({ tag: '', rows: null, sqlstate: null });

/** The SQLSTATE ('C' field) of an ErrorResponse body. */
export function sqlstateOf(body: Buffer): string | null {
  let pos = 0;
  while (pos < body.length && body[pos] !== 0) {
    const end = body.indexOf(0, pos + 1);
    if (end < 0) return null;
    if (body[pos] === 0x43) return body.toString('latin1', pos + 1, end);
    pos = end + 1;
  }
  return null;
}

export function markerOf(command: string): TxMarker | null {
  switch (command) {
    case 'BEGIN':
    case 'START TRANSACTION':
      return { type: 'Begin' };
    case 'COMMIT':
    case 'END':
      return { type: 'Commit' };
    case 'ROLLBACK':
      return { type: 'Rollback' };
    default:
      return null;
  }
}

export function effectsOf(statements: readonly AnalyzedStatement[]): (Effect | TxMarker)[] {
  const out: (Effect | TxMarker)[] = [];
  for (const s of statements) {
    const marker = markerOf(s.facts.command);
    if (marker !== null) out.push(marker);
    out.push(...s.effects);
  }
  return out;
}

/** True when the statement changes session state once it succeeds (see effectsOf). */
export function hasEffects(statement: AnalyzedStatement): boolean {
  return statement.effects.length > 0 || markerOf(statement.facts.command) !== null;
}

/**
 * True when the statement, once it succeeds, changes what later statements mean: search_path, prepared
 * statements, cursors, or the end of a transaction (which reverts its SET LOCAL and, on rollback, its SETs).
 */
export function changesSessionState(statement: AnalyzedStatement): boolean {
  if (statement.effects.length > 0) return true;
  const marker = markerOf(statement.facts.command);
  return marker !== null && marker.type !== 'Begin';
}

/** The verdict when a required row estimate could not be had: refused, naming the guardrail. */
export function unestimated(verdict: Verdict, index: number): Verdict {
  return {
    ...verdict,
    allow: false,
    outcome: 'blocked',
    denial: {
      rule: 'guardrail.explain_rows',
      message: `the row estimate for statement ${index + 1} could not be obtained, so its row limit cannot be checked`,
    },
  };
}

/** Expands `star` outputs to the table's columns (from the catalog); null when a table is unknown. */
export async function expandStars(
  outputs: readonly OutputLineage[],
  origins: ColumnOrigins,
): Promise<OutputLineage[] | null> {
  const out: OutputLineage[] = [];
  for (const o of outputs) {
    if (o.kind !== 'star') {
      out.push(o);
      continue;
    }
    const dot = o.table.indexOf('.');
    const columns = await origins.columnsOf(o.table.slice(0, dot), o.table.slice(dot + 1));
    if (columns === null) return null;
    for (const c of columns) out.push({ kind: 'column', source: `${o.table}.${c}` });
  }
  return out;
}

export function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((x, i) => x === b[i]));
}

export function hasMask(verdict: Verdict): boolean {
  // Per statement: a key test that builds no array of keys.
  for (const _ in verdict.mask) return true;
  return false;
}

/** A slot whose statements passed DDL upstream: cached column origins may be stale. */
export function changesCatalog(slot: Slot): boolean {
  if (slot.event === null || !slot.event.verdict.allow) return false;
  for (const s of slot.event.statements) if (s.facts.flags.includes('ddl')) return true;
  return false;
}

/** Records a column (or `*`) the slot masked. */
export function markMasked(slot: Slot, column: string): void {
  slot.masked ??= new Set();
  slot.masked.add(column);
}

export function asStatement(stored: StoredQuery): AnalyzedStatement {
  const { facts, outputs } = stored;
  return { facts, outputs, text: '', normalized: '', effects: [], cacheKey: null };
}
