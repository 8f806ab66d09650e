// A small lexer for the hot path: splits a query string into statements, builds a literal-free
// cache key and finds literals for the audit's normalized text, without calling the parser.
// Mirrors PostgreSQL's scan.l for standard_conforming_strings = on.

/** One non-empty statement: [start, end) spans its first to last token, without `;`. */
export interface Segment {
  start: number;
  end: number;
  /** [start, end) pairs of every literal (strings, numbers) inside the segment. */
  literals: number[];
  /** Highest `$n` parameter number seen in the segment. */
  maxParam: number;
  /** The segment's own literal-free form (see ScanResult.key); null when the text has none. */
  key: string | null;
}

export interface ScanResult {
  /**
   * Literal-free form: literals replaced by a marker, comments and whitespace runs by one space.
   * null when the text must not be cached (unterminated literal or comment, marker characters).
   */
  key: string | null;
  segments: Segment[];
  /** Deepest parenthesis nesting. */
  maxParens: number;
}

const STRING_MARK = '\u0001';
const NUMBER_MARK = '\u0002';

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128;
}

function isIdentCont(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57) || c === 36;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** End of a quoted run starting after the opening quote; `""`/`''` doubling; -1 if unterminated. */
function endOfQuoted(sql: string, from: number, quote: number, backslash: boolean): number {
  let i = from;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (backslash && c === 92) {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql.charCodeAt(i + 1) === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return -1;
}

/** Length of a `$tag$` opener at `i`, or 0 when `$` does not start a dollar quote. */
function dollarTagLength(sql: string, i: number): number {
  let j = i + 1;
  const first = sql.charCodeAt(j);
  if (first === 36) return 2;
  if (!isIdentStart(first)) return 0;
  j++;
  for (;;) {
    const c = sql.charCodeAt(j);
    if (c === 36) return j - i + 1;
    if (!(isIdentStart(c) || isDigit(c))) return 0;
    j++;
  }
}

function endOfNumber(sql: string, i: number): number {
  let j = i;
  while (isDigit(sql.charCodeAt(j)) || sql.charCodeAt(j) === 95) j++;
  if (sql.charCodeAt(j) === 46 && sql.charCodeAt(j + 1) !== 46) {
    j++;
    while (isDigit(sql.charCodeAt(j)) || sql.charCodeAt(j) === 95) j++;
  }
  const e = sql.charCodeAt(j);
  if (e === 101 || e === 69) {
    const s = sql.charCodeAt(j + 1);
    if (isDigit(s)) j += 1;
    else if ((s === 43 || s === 45) && isDigit(sql.charCodeAt(j + 2))) j += 2;
    while (isDigit(sql.charCodeAt(j)) || sql.charCodeAt(j) === 95) j++;
  }
  // Trailing identifier characters: hex/octal/binary integers or "trailing junk" (an error).
  while (isIdentCont(sql.charCodeAt(j)) && sql.charCodeAt(j) !== 36) j++;
  return j;
}

/** End of a run of whitespace and comments starting at `i`; -1 for an unterminated comment. */
function endOfGap(sql: string, i: number): number {
  const n = sql.length;
  let j = i;
  while (j < n) {
    const c = sql.charCodeAt(j);
    if (isSpace(c)) j++;
    else if (c === 45 && sql.charCodeAt(j + 1) === 45) {
      j += 2;
      while (j < n && sql.charCodeAt(j) !== 10 && sql.charCodeAt(j) !== 13) j++;
    } else if (c === 47 && sql.charCodeAt(j + 1) === 42) {
      // Block comments nest in PostgreSQL.
      let level = 1;
      j += 2;
      while (j < n && level > 0) {
        const d = sql.charCodeAt(j);
        if (d === 47 && sql.charCodeAt(j + 1) === 42) {
          level++;
          j += 2;
        } else if (d === 42 && sql.charCodeAt(j + 1) === 47) {
          level--;
          j += 2;
        } else j++;
      }
      if (level > 0) return -1;
    } else break;
  }
  return j;
}

/** The literals of a segment that has none (shared and frozen; a segment's first literal replaces it). */
const NO_LITERALS = Object.freeze([]) as unknown as number[];

/** The segments of a text with none (shared and frozen; the first segment replaces it). */
const NO_SEGMENTS = Object.freeze([]) as unknown as OpenSegment[];

/** A segment while its text is scanned: where its first and last token sit in the key. */
interface OpenSegment extends Segment {
  keyStart: number;
  keyEnd: number;
}

/**
 * The key and segments built while one text is scanned. One instance serves every scan (a scan runs to
 * its end without yielding): reset() starts the next.
 */
class KeyBuilder {
  sql = '';
  segments: OpenSegment[] = NO_SEGMENTS;
  key = '';
  /** sql[flushed, current position) is still pending, to be copied verbatim into the key. */
  flushed = 0;
  segStart = -1;
  segEnd = 0;
  literals: number[] = NO_LITERALS;
  maxParam = 0;
  keyStart = 0;
  keyEnd = 0;

  reset(sql: string): void {
    this.sql = sql;
    this.segments = NO_SEGMENTS;
    this.key = '';
    this.flushed = 0;
    this.segStart = -1;
    this.segEnd = 0;
    this.literals = NO_LITERALS;
    this.maxParam = 0;
    this.keyStart = 0;
    this.keyEnd = 0;
  }

  /** Lets go of the last text and what was built from it. */
  release(): void {
    this.sql = '';
    this.segments = NO_SEGMENTS;
    this.key = '';
    this.literals = NO_LITERALS;
  }

  /** Position in the key of text index `idx`, while sql[flushed, idx) is still pending verbatim. */
  keyPos(idx: number): number {
    return this.key.length + (idx - this.flushed);
  }

  closeSegment(): void {
    if (this.segStart >= 0) {
      const segment: OpenSegment = {
        start: this.segStart,
        end: this.segEnd,
        literals: this.literals,
        maxParam: this.maxParam,
        key: null,
        keyStart: this.keyStart,
        keyEnd: this.keyEnd,
      };
      // The first segment gets a list sized for it (most texts hold one statement).
      if (this.segments.length === 0) this.segments = [segment];
      else this.segments.push(segment);
    }
    this.segStart = -1;
    this.literals = NO_LITERALS;
    this.maxParam = 0;
  }

  token(start: number, end: number): void {
    if (this.segStart < 0) {
      this.segStart = start;
      this.keyStart = this.keyPos(start);
    }
    this.segEnd = end;
    this.keyEnd = this.keyPos(end);
  }

  replace(start: number, end: number, mark: string): void {
    if (this.segStart < 0) {
      this.segStart = start;
      this.keyStart = this.keyPos(start);
    }
    this.key += this.sql.slice(this.flushed, start) + mark;
    this.flushed = end;
    // A segment's first literal gets an array of its own (sized for it, not grown from empty).
    if (this.literals === NO_LITERALS) this.literals = [start, end];
    else this.literals.push(start, end);
    this.segEnd = end;
    this.keyEnd = this.key.length;
  }

  space(start: number, end: number): void {
    this.key += `${this.sql.slice(this.flushed, start)} `;
    this.flushed = end;
  }
}

const BUILDER = new KeyBuilder();

/**
 * Scans the whole string once. Never throws; malformed input yields `key: null` and segments
 * that run to the end of the text.
 */
export function scanSql(sql: string): ScanResult {
  const n = sql.length;
  const kb = BUILDER;
  kb.reset(sql);
  let cacheable = true;
  let depth = 0;
  let maxParens = 0;
  let i = 0;

  while (i < n) {
    const c = sql.charCodeAt(i);
    if (
      isSpace(c) ||
      (c === 45 && sql.charCodeAt(i + 1) === 45) ||
      (c === 47 && sql.charCodeAt(i + 1) === 42)
    ) {
      // A gap: whitespace and comments, which become one space in the key.
      const j = endOfGap(sql, i);
      if (j < 0) {
        cacheable = false;
        kb.space(i, n);
        i = n;
      } else {
        if (j - i > 1 || c !== 32) kb.space(i, j);
        i = j;
      }
    } else if (c === 39) {
      const end = endOfQuoted(sql, i + 1, 39, false);
      if (end < 0) cacheable = false;
      kb.replace(i, end < 0 ? n : end, STRING_MARK);
      i = end < 0 ? n : end;
    } else if (c === 34) {
      const end = endOfQuoted(sql, i + 1, 34, false);
      if (end < 0) cacheable = false;
      kb.token(i, end < 0 ? n : end);
      i = end < 0 ? n : end;
    } else if (isIdentStart(c)) {
      const next = sql.charCodeAt(i + 1);
      // Prefixed literals: E'..' (backslash escapes), B'..' and X'..' (no doubling), N'..', U&'..'.
      if (next === 39 && (c === 69 || c === 101)) {
        const end = endOfQuoted(sql, i + 2, 39, true);
        if (end < 0) cacheable = false;
        kb.replace(i, end < 0 ? n : end, STRING_MARK);
        i = end < 0 ? n : end;
      } else if (next === 39 && (c === 66 || c === 98 || c === 88 || c === 120)) {
        const q = sql.indexOf("'", i + 2);
        if (q < 0) cacheable = false;
        kb.replace(i, q < 0 ? n : q + 1, STRING_MARK);
        i = q < 0 ? n : q + 1;
      } else if (next === 39 && (c === 78 || c === 110)) {
        const end = endOfQuoted(sql, i + 2, 39, false);
        if (end < 0) cacheable = false;
        kb.replace(i, end < 0 ? n : end, STRING_MARK);
        i = end < 0 ? n : end;
      } else if (next === 38 && (c === 85 || c === 117) && sql.charCodeAt(i + 2) === 39) {
        const end = endOfQuoted(sql, i + 3, 39, false);
        if (end < 0) cacheable = false;
        kb.replace(i, end < 0 ? n : end, STRING_MARK);
        i = end < 0 ? n : end;
      } else if (next === 38 && (c === 85 || c === 117) && sql.charCodeAt(i + 2) === 34) {
        const end = endOfQuoted(sql, i + 3, 34, false);
        if (end < 0) cacheable = false;
        kb.token(i, end < 0 ? n : end);
        i = end < 0 ? n : end;
      } else {
        let j = i + 1;
        while (j < n && isIdentCont(sql.charCodeAt(j))) j++;
        kb.token(i, j);
        i = j;
      }
    } else if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      const end = endOfNumber(sql, i);
      kb.replace(i, end, NUMBER_MARK);
      i = end;
    } else if (c === 36) {
      if (isDigit(sql.charCodeAt(i + 1))) {
        let j = i + 1;
        while (j < n && isDigit(sql.charCodeAt(j))) j++;
        const num = Number(sql.slice(i + 1, j));
        if (num > kb.maxParam) kb.maxParam = num;
        kb.token(i, j);
        i = j;
      } else {
        const len = dollarTagLength(sql, i);
        if (len === 0) {
          kb.token(i, i + 1);
          i++;
        } else {
          const close = sql.indexOf(sql.slice(i, i + len), i + len);
          if (close < 0) cacheable = false;
          const end = close < 0 ? n : close + len;
          kb.replace(i, end, STRING_MARK);
          i = end;
        }
      }
    } else if (c === 59) {
      kb.closeSegment();
      i++;
    } else {
      if (c === 40) {
        depth++;
        if (depth > maxParens) maxParens = depth;
      } else if (c === 41 && depth > 0) depth--;
      // SECURITY: a marker character in the text itself could make two statements share a key.
      else if (c === 1 || c === 2) cacheable = false;
      kb.token(i, i + 1);
      i++;
    }
  }
  kb.closeSegment();
  const { segments } = kb;
  const built = kb.key;
  const flushed = kb.flushed;
  kb.release();
  if (!cacheable) return { key: null, segments, maxParens };
  const key = built + sql.slice(flushed);
  const trimmed = trimSpaces(key);
  for (const seg of segments) {
    // One statement spanning the whole key (the common case) shares the key's string.
    seg.key =
      seg.keyEnd - seg.keyStart === trimmed.length ? trimmed : key.slice(seg.keyStart, seg.keyEnd);
  }
  return { key: trimmed, segments, maxParens };
}

/** Strips ASCII spaces only: other characters, such as U+00A0, are identifier characters. */
function trimSpaces(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) === 32) a++;
  while (b > a && s.charCodeAt(b - 1) === 32) b--;
  return s.slice(a, b);
}

/** The segment's text with each literal replaced by `$n`, numbered after its highest parameter. */
export function normalizeSegment(sql: string, seg: Segment): string {
  if (seg.literals.length === 0) return sql.slice(seg.start, seg.end);
  let out = '';
  let from = seg.start;
  let next = seg.maxParam;
  for (let k = 0; k < seg.literals.length; k += 2) {
    const a = seg.literals[k] ?? from;
    const b = seg.literals[k + 1] ?? a;
    next++;
    out += `${sql.slice(from, a)}$${next}`;
    from = b;
  }
  return out + sql.slice(from, seg.end);
}
