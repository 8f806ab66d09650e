// The analyzer: SQL text -> one StatementFacts per statement, synchronously on the hot path,
// with a bounded cache keyed by the literal-free text where literals cannot change the facts.
import { loadModule, parseSync } from 'libpg-query';
import { PgwardError } from '../../lib/errors.js';
import { analyzeParsed, type CachedStatement } from './analyze-statements.js';
import type { AnalyzeContext, AnalyzedStatement, AnalyzeResult, Flag } from './facts.js';
import { treeFingerprint } from './fingerprint.js';
import { createLru } from './lru.js';
import { normalizeSegment, type Segment, scanSql } from './sql-scanner.js';
import { finishFacts, hitFacts, sha256, simpleBody } from './statement-facts.js';
import {
  type RawLocation,
  segmentsFromParser,
  segmentsMatch,
  wholeSegment,
} from './statement-text.js';

export interface AnalyzerOptions {
  /** Entries of the literal-free cache (0 disables it). Default 10,000. */
  cacheSize?: number;
  /** Deepest AST (and parenthesis) nesting walked before flagging `too_deep`. Default 1,000. */
  maxDepth?: number;
}

export interface AnalyzerStats {
  hits: number;
  misses: number;
  size: number;
}

export interface Analyzer {
  /** Never throws: anything it cannot understand comes back as UNKNOWN with a flag. */
  analyze(sql: string, ctx: AnalyzeContext): AnalyzeResult;
  /** Cache hits and misses (the fixed transaction statements count as neither). */
  stats(): AnalyzerStats;
}

const DEFAULT_CACHE_SIZE = 10_000;
const DEFAULT_MAX_DEPTH = 1_000;
const MAX_MAX_DEPTH = 5_000;

let loaded = false;
/** Fingerprints of the fixed statements (and of the empty query), computed once. */
const constantFingerprints = new Map<string, string>();

/** Loads the libpg-query WASM module once; required before createAnalyzer(). */
export async function loadAnalyzer(): Promise<void> {
  await loadModule();
  loaded = true;
}

/** Statements that need no parser: the transaction brackets drivers send all the time. */
const FIXED =
  /^[ \t\n\r\f\v]*(begin|commit|rollback|end|start[ \t\n\r\f\v]+transaction)[ \t\n\r\f\v]*;?[ \t\n\r\f\v]*$/i;
const FIXED_TAGS: Readonly<Record<string, string>> = {
  BEGIN: 'BEGIN',
  COMMIT: 'COMMIT',
  END: 'COMMIT',
  ROLLBACK: 'ROLLBACK',
  'START TRANSACTION': 'START TRANSACTION',
};

/** The fingerprint the parser's tree of `canonical` gives (as for the same statement parsed). */
function constantFingerprint(canonical: string): string {
  let fp = constantFingerprints.get(canonical);
  if (fp === undefined) {
    fp = treeFingerprint(parseSync(canonical).stmts?.[0]?.stmt);
    constantFingerprints.set(canonical, fp);
  }
  return fp;
}

/** search_path as a cache key part, per path array (a session keeps its array until the path changes). */
const pathKeys = new WeakMap<readonly string[], string>();

function pathKeyOf(path: readonly string[]): string {
  let key = pathKeys.get(path);
  if (key === undefined) {
    key = path.join('\u0000');
    pathKeys.set(path, key);
  }
  return key;
}

function fixed(keyword: string, sql: string): AnalyzeResult {
  const canonical = keyword.toUpperCase().replace(/[ \t\n\r\f\v]+/, ' ');
  const text = sql.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]*;?[ \t\n\r\f\v]*$/g, '');
  const body = simpleBody(FIXED_TAGS[canonical] ?? 'UNKNOWN', ['transaction_control']);
  const facts = finishFacts(body, sha256(text), constantFingerprint(canonical), 0, 1);
  return {
    statements: [
      {
        facts,
        outputs: null,
        text,
        normalized: text,
        effects: [],
        cacheKey: `\u0004fixed\u0003${canonical}`,
      },
    ],
  };
}

function empty(): AnalyzeResult {
  const facts = finishFacts(
    simpleBody('EMPTY', ['empty']),
    sha256(''),
    constantFingerprint(';'),
    0,
    1,
  );
  return {
    statements: [
      { facts, outputs: null, text: '', normalized: '', effects: [], cacheKey: '\u0004empty' },
    ],
  };
}

/** One statement standing for the whole text: parse error, too deep, or an analyzer fault. */
function whole(
  sql: string,
  segments: readonly Segment[],
  command: string,
  flag: Flag,
): AnalyzeResult {
  const seg = wholeSegment(segments);
  const text = segments.length === 0 ? sql : sql.slice(seg.start, seg.end);
  const facts = finishFacts(simpleBody(command, [flag]), sha256(text), '', 0, 1);
  const normalized = segments.length === 0 ? '' : normalizeSegment(sql, seg);
  return { statements: [{ facts, outputs: null, text, normalized, effects: [], cacheKey: null }] };
}

/** Statement `i` of a text whose shape the cache holds (`hit`, one entry per segment). */
function hitStatement(
  sql: string,
  seg: Segment,
  hit: readonly CachedStatement[],
  i: number,
  pathKey: string,
): AnalyzedStatement {
  const c = hit[i]!;
  const text = sql.slice(seg.start, seg.end);
  return {
    facts: hitFacts(c.body, text, c.fingerprint, i, hit.length),
    outputs: c.outputs,
    text,
    normalized: normalizeSegment(sql, seg),
    effects: [],
    // The same string as the entry's (its hash is then computed once, for every hit's lookups).
    cacheKey:
      c.segmentKey === seg.key && c.cacheKey !== null ? c.cacheKey : `${pathKey}\u0003${seg.key}`,
  };
}

export function createAnalyzer(options: AnalyzerOptions = {}): Analyzer {
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(cacheSize) || cacheSize < 0) {
    throw new PgwardError(
      'PGW_CONFIG_INVALID',
      `analyzer cacheSize must be a non-negative integer, got ${cacheSize}`,
    );
  }
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > MAX_MAX_DEPTH) {
    throw new PgwardError(
      'PGW_CONFIG_INVALID',
      `analyzer maxDepth must be an integer in 1..${MAX_MAX_DEPTH}, got ${maxDepth}`,
    );
  }
  if (!loaded) {
    throw new PgwardError('PGW_INTERNAL', 'loadAnalyzer() must complete before createAnalyzer()');
  }
  const cache = createLru<CachedStatement[]>(cacheSize);
  /**
   * The cache's newest entry (the last one found or added) by its two key parts: the same statement
   * shape again, the common case, is found by comparing strings instead of building and hashing a key.
   * A hit here is exactly a cache hit on the newest entry, which moves nothing in the LRU.
   */
  let newest: {
    readonly pathKey: string;
    readonly shape: string;
    readonly entry: CachedStatement[];
  } | null = null;
  let hits = 0;
  let misses = 0;

  function analyze(sql: string, ctx: AnalyzeContext): AnalyzeResult {
    const m = FIXED.exec(sql);
    if (m?.[1] !== undefined) return fixed(m[1], sql);
    const scan = scanSql(sql);
    if (scan.segments.length === 0) return empty();
    // SECURITY: the parser reads a C string; a NUL would hide everything after it.
    if (sql.includes('\u0000')) return whole(sql, scan.segments, 'UNKNOWN', 'parse_error');
    // The parser takes milliseconds on absurd nesting; refuse it before parsing.
    if (scan.maxParens > maxDepth) return whole(sql, scan.segments, 'UNKNOWN', 'too_deep');

    const pathKey = pathKeyOf(ctx.searchPath);
    const shape = scan.key;
    let hit: CachedStatement[] | undefined;
    if (shape !== null && newest !== null && newest.shape === shape && newest.pathKey === pathKey)
      hit = newest.entry;
    else if (shape !== null) {
      hit = cache.get(`${pathKey}\u0003${shape}`);
      if (hit !== undefined) newest = { pathKey, shape, entry: hit };
    }
    if (hit !== undefined && hit.length === scan.segments.length) {
      hits++;
      const { segments } = scan;
      // One statement (nearly always) gets a list sized for it; a loop, not map: no closure per call.
      const first = hitStatement(sql, segments[0]!, hit, 0, pathKey);
      const statements = [first];
      for (let i = 1; i < segments.length; i++)
        statements.push(hitStatement(sql, segments[i]!, hit, i, pathKey));
      return { statements };
    }
    misses++;

    let stmts: readonly (RawLocation & { stmt?: unknown })[];
    try {
      stmts = parseSync(sql).stmts ?? [];
    } catch {
      // Syntax errors, and stack or memory exhaustion on absurd nesting, all fail closed.
      return whole(sql, scan.segments, 'UNKNOWN', 'parse_error');
    }
    if (stmts.length === 0) return empty();
    // The scanner's split is used when it agrees with the parser, so cache hits slice alike.
    const aligned = shape !== null && segmentsMatch(sql, stmts, scan.segments);
    const segments = aligned ? scan.segments : segmentsFromParser(sql, stmts);
    const out = analyzeParsed({ sql, stmts, segments, aligned, maxDepth }, ctx);
    if (shape !== null && out.reusable !== null && cacheSize > 0) {
      cache.set(`${pathKey}\u0003${shape}`, out.reusable);
      newest = { pathKey, shape, entry: out.reusable };
    }
    return { statements: out.statements };
  }

  return {
    analyze(sql, ctx) {
      try {
        return analyze(sql, ctx);
      } catch {
        // SECURITY: an analyzer fault must deny the statement, never pass it or crash the session.
        return whole(sql, [], 'UNKNOWN', 'unknown_node');
      }
    },
    stats: () => ({ hits, misses, size: cache.size }),
  };
}
