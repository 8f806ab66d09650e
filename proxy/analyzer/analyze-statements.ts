// Walks the parsed statements of one query string in order. Effects of earlier statements (SET
// search_path, PREPARE, DECLARE, DEALLOCATE, CLOSE, DISCARD) apply to later ones, since they run
// in order; the session applies them for good only once the statements succeeded upstream.
import { assertNever } from '../../lib/errors.js';
import { type FactsBody, FactsBuilder, type StoredBody, type Walker } from './builder.js';
import type { AnalyzeContext, AnalyzedStatement, Effect, OutputLineage } from './facts.js';
import { treeFingerprint } from './fingerprint.js';
import { normalizeSegment, type Segment } from './sql-scanner.js';
import { finishEffect, finishFacts, freezeBody, isReusable, sha256 } from './statement-facts.js';
import { walkQuery, walkStatement } from './walk-statement.js';

const POSTGRES_DEFAULT_PATH: readonly string[] = ['$user', 'public'];

/** What the cache keeps of one statement: everything that does not depend on its exact text. */
export interface CachedStatement {
  readonly body: FactsBody;
  readonly fingerprint: string;
  readonly outputs: readonly OutputLineage[] | null;
  /** The statement's segment key, and its cacheKey (kept so a hit reuses the same string). */
  readonly segmentKey: string | null;
  readonly cacheKey: string | null;
}

export interface ParsedInput {
  readonly sql: string;
  readonly stmts: readonly { stmt?: unknown }[];
  /** One per statement. */
  readonly segments: readonly Segment[];
  /** Whether the segments came from the scanner and agree with the parser (keys are valid). */
  readonly aligned: boolean;
  readonly maxDepth: number;
}

export interface ParsedOutput {
  readonly statements: AnalyzedStatement[];
  /** Set when every statement is reusable: the cache entry for the whole string. */
  readonly reusable: CachedStatement[] | null;
}

/** Prepared statements and cursors as the statements of this string leave them. */
class Overlay {
  /** Created by the first change: most strings change neither prepared statements nor cursors. */
  private local: Map<string, StoredBody | null> | null = null;
  private cleared = false;

  constructor(private readonly outer: (name: string) => StoredBody | undefined) {}

  get(name: string): StoredBody | undefined {
    if (this.local !== null) {
      const hit = this.local.get(name);
      if (hit !== undefined) return hit ?? undefined;
      if (this.local.has(name)) return undefined;
    }
    if (this.cleared) return undefined;
    return this.outer(name);
  }

  set(name: string, stored: StoredBody | null): void {
    this.local ??= new Map();
    this.local.set(name, stored);
  }

  clear(): void {
    this.local = null;
    this.cleared = true;
  }
}

/**
 * The session state as the statements of one string change it, in order (a class: its methods
 * are not closures re-created for every string analyzed).
 */
class StringState {
  readonly prepared: Overlay;
  readonly cursors: Overlay;
  /** Lookups handed to each statement's walker. */
  readonly preparedLookup: (name: string) => StoredBody | undefined;
  readonly cursorLookup: (name: string) => StoredBody | undefined;
  path: readonly string[];

  constructor(
    ctx: AnalyzeContext,
    private readonly defaultPath: readonly string[],
  ) {
    this.path = ctx.searchPath;
    this.prepared = new Overlay(ctx.prepared);
    this.cursors = new Overlay(ctx.cursors);
    this.preparedLookup = this.prepared.get.bind(this.prepared);
    this.cursorLookup = this.cursors.get.bind(this.cursors);
  }

  apply(e: Effect): void {
    switch (e.type) {
      case 'SetSearchPath':
        this.path = e.path ?? this.defaultPath;
        return;
      case 'Prepare':
        this.prepared.set(e.name, { facts: e.facts, outputs: e.outputs });
        return;
      case 'Deallocate':
        if (e.all || e.name === null) this.prepared.clear();
        else this.prepared.set(e.name, null);
        return;
      case 'DeclareCursor':
        this.cursors.set(e.name, { facts: e.facts, outputs: e.outputs });
        return;
      case 'CloseCursor':
        if (e.all || e.name === null) this.cursors.clear();
        else this.cursors.set(e.name, null);
        return;
      case 'Discard':
        if (e.target === 'all') {
          this.path = this.defaultPath;
          this.prepared.clear();
          this.cursors.clear();
        }
        return;
      default:
        assertNever(e, 'effect');
    }
  }
}

export function analyzeParsed(input: ParsedInput, ctx: AnalyzeContext): ParsedOutput {
  const { sql, stmts, segments, aligned, maxDepth } = input;
  const state = new StringState(ctx, ctx.defaultSearchPath ?? POSTGRES_DEFAULT_PATH);
  const statements: AnalyzedStatement[] = [];
  const reusable: CachedStatement[] = [];
  let allReusable = aligned;

  for (let i = 0; i < stmts.length; i++) {
    const seg = segments[i] as Segment;
    const text = sql.slice(seg.start, seg.end);
    const statementPath = state.path;
    const w: Walker = {
      b: new FactsBuilder(),
      path: statementPath,
      maxDepth,
      prepared: state.preparedLookup,
      cursors: state.cursorLookup,
      query: walkQuery,
      statement: walkStatement,
    };
    const body = freezeBody(w.b.build(walkStatement(w, stmts[i]?.stmt, 0)));
    // A statement refused as too deep is not walked again for its fingerprint.
    const fingerprint = body.flags.includes('too_deep') ? '' : treeFingerprint(stmts[i]?.stmt);
    const facts = finishFacts(body, sha256(text), fingerprint, i, stmts.length);
    const effects = w.b.effects.map((e) => finishEffect(e, facts));
    for (const e of effects) state.apply(e);
    const ok = aligned && seg.key !== null && isReusable(body, effects, w.b.literalDependent);
    const outputs = w.b.outputs;
    const cacheKey = ok ? `${statementPath.join('\u0000')}\u0003${seg.key}` : null;
    statements.push({
      facts,
      outputs,
      text,
      normalized: normalizeSegment(sql, seg),
      effects,
      cacheKey,
    });
    allReusable &&= ok;
    reusable.push({ body, fingerprint, outputs, segmentKey: seg.key, cacheKey });
  }
  return { statements, reusable: allReusable ? reusable : null };
}
