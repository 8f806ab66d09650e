// Assembles frozen StatementFacts from a walker's body, and decides which facts are reusable
// for another text with the same literal-free form (the cache and the statement's cacheKey).
import { hash } from 'node:crypto';
import { type FactsBody, FactsBuilder, type PendingEffect } from './builder.js';
import type { Effect, Flag, StatementFacts } from './facts.js';

/**
 * Facts (and outputs) that cannot depend on a literal value. Anything else (settings, COPY, EXPLAIN options,
 * PREPARE/EXECUTE/cursors, flagged functions whose arguments matter) is analyzed every time.
 */
const REUSABLE_COMMANDS: ReadonlySet<string> = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
]);
const REUSABLE_FLAGS: ReadonlySet<Flag> = new Set([
  'dml_in_cte',
  'locking_clause',
  'system_catalog',
]);

export function isReusable(
  body: FactsBody,
  effects: readonly unknown[],
  literalDependent: boolean,
): boolean {
  return (
    !literalDependent &&
    REUSABLE_COMMANDS.has(body.command) &&
    body.flags.every((f) => REUSABLE_FLAGS.has(f)) &&
    body.settings === undefined &&
    effects.length === 0
  );
}

export function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}

/** Freezes a body in place: cached facts share it. */
export function freezeBody(body: FactsBody): FactsBody {
  for (const r of body.reads) Object.freeze(Object.freeze(r).columns);
  for (const w of body.writes) Object.freeze(Object.freeze(w).columns);
  for (const s of body.settings ?? []) Object.freeze(s);
  for (const o of body.objects ?? []) Object.freeze(o);
  Object.freeze(body.reads);
  Object.freeze(body.writes);
  Object.freeze(body.functions);
  Object.freeze(body.flags);
  Object.freeze(body.predicate_columns);
  if (body.settings !== undefined) Object.freeze(body.settings);
  if (body.objects !== undefined) Object.freeze(body.objects);
  return Object.freeze(body);
}

/** A body with only a command and flags. */
export function simpleBody(command: string, flags: readonly Flag[]): FactsBody {
  const b = new FactsBuilder();
  for (const f of flags) b.flag(f);
  return freezeBody(b.build(command));
}

/** The frozen facts of one statement of a query string. */
export function finishFacts(
  body: FactsBody,
  sha: string,
  fingerprint: string,
  index: number,
  count: number,
): StatementFacts {
  if (body.settings === undefined && body.objects === undefined) {
    // The common shape as one literal: no spreads on the hot path.
    return Object.freeze({
      sha256: sha,
      fingerprint,
      index,
      count,
      command: body.command,
      reads: body.reads,
      writes: body.writes,
      functions: body.functions,
      flags: body.flags,
      estimated_rows: null,
      predicate_columns: body.predicate_columns,
    });
  }
  return Object.freeze({
    sha256: sha,
    fingerprint,
    index,
    count,
    command: body.command,
    reads: body.reads,
    writes: body.writes,
    functions: body.functions,
    flags: body.flags,
    ...(body.settings === undefined ? {} : { settings: body.settings }),
    ...(body.objects === undefined ? {} : { objects: body.objects }),
    estimated_rows: null,
    predicate_columns: body.predicate_columns,
  });
}

/**
 * The facts of a cache hit: the cached body with this text's place, and the text's sha256 computed on
 * first read. A decision served from the judge's cache never reads it (audit and approvals do), and
 * hashing the text was the largest single cost of a repeated statement. Frozen like finishFacts' result;
 * JSON (the policy input) is the same text finishFacts' object gives.
 */
class HitFacts implements StatementFacts {
  readonly #text: string;
  #sha256: string | null = null;
  readonly fingerprint: string;
  readonly index: number;
  readonly count: number;
  readonly command: string;
  readonly reads: StatementFacts['reads'];
  readonly writes: StatementFacts['writes'];
  readonly functions: StatementFacts['functions'];
  readonly flags: StatementFacts['flags'];
  readonly estimated_rows = null;
  readonly predicate_columns: StatementFacts['predicate_columns'];

  constructor(body: FactsBody, text: string, fingerprint: string, index: number, count: number) {
    this.#text = text;
    this.fingerprint = fingerprint;
    this.index = index;
    this.count = count;
    this.command = body.command;
    this.reads = body.reads;
    this.writes = body.writes;
    this.functions = body.functions;
    this.flags = body.flags;
    this.predicate_columns = body.predicate_columns;
    Object.freeze(this);
  }

  get sha256(): string {
    this.#sha256 ??= sha256(this.#text);
    return this.#sha256;
  }

  /** A plain copy, key for key as finishFacts writes it (so spreads and JSON see every fact). */
  toJSON(): StatementFacts {
    return finishFacts(this, this.sha256, this.fingerprint, this.index, this.count);
  }
}

/**
 * The facts of `text` from a cached body (see HitFacts); a body with settings or objects (never cached
 * today) gets finishFacts' plain object.
 */
export function hitFacts(
  body: FactsBody,
  text: string,
  fingerprint: string,
  index: number,
  count: number,
): StatementFacts {
  if (body.settings !== undefined || body.objects !== undefined)
    return finishFacts(body, sha256(text), fingerprint, index, count);
  return new HitFacts(body, text, fingerprint, index, count);
}

/** The facts with a row estimate (a plain frozen object: every fact an own property). */
export function withEstimate(facts: StatementFacts, rows: number): StatementFacts {
  const plain = facts instanceof HitFacts ? facts.toJSON() : facts;
  return Object.freeze({ ...plain, estimated_rows: rows });
}

/** Prepare/DeclareCursor effects carry the inner statement's facts under the outer statement's ids. */
export function finishEffect(e: PendingEffect, outer: StatementFacts): Effect {
  if (e.type !== 'Prepare' && e.type !== 'DeclareCursor') return e;
  const inner = finishFacts(
    freezeBody(e.body),
    outer.sha256,
    outer.fingerprint,
    outer.index,
    outer.count,
  );
  return { type: e.type, name: e.name, facts: inner, outputs: e.outputs };
}
