// Maps the parser's statement locations (UTF-8 byte offsets) to slices of the JS string, and
// checks them against the scanner's segments so that cache hits can slice without the parser.
import { type Segment, scanSql } from './sql-scanner.js';

/** Char index for each UTF-8 byte offset boundary of `sql` (identity for ASCII text). */
export function byteToChar(sql: string): (byte: number) => number {
  let ascii = true;
  for (let i = 0; i < sql.length; i++) {
    if (sql.charCodeAt(i) > 127) {
      ascii = false;
      break;
    }
  }
  if (ascii) return (b) => Math.min(b, sql.length);
  const starts: number[] = [];
  let byte = 0;
  for (let i = 0; i < sql.length; i++) {
    starts.push(byte);
    const c = sql.charCodeAt(i);
    if (c < 0x80) byte += 1;
    else if (c < 0x800) byte += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      // A surrogate pair is one 4-byte code point: no byte offset falls on its low half.
      starts.push(byte + 1);
      byte += 4;
      i++;
    } else byte += 3;
  }
  starts.push(byte);
  return (b) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((starts[mid] ?? 0) < b) lo = mid + 1;
      else hi = mid;
    }
    return Math.min(lo, sql.length);
  };
}

export interface RawLocation {
  stmt_location?: number;
  stmt_len?: number;
}

/** Whether each parser statement spans exactly one scanner segment, in order. */
export function segmentsMatch(
  sql: string,
  stmts: readonly RawLocation[],
  segments: readonly Segment[],
): boolean {
  if (stmts.length !== segments.length) return false;
  const toChar = byteToChar(sql);
  for (let i = 0; i < stmts.length; i++) {
    const st = stmts[i];
    const seg = segments[i];
    if (st === undefined || seg === undefined) return false;
    const loc = st.stmt_location ?? 0;
    const start = toChar(loc);
    const end = st.stmt_len ? toChar(loc + st.stmt_len) : sql.length;
    if (start > seg.start || seg.end > end) return false;
  }
  return true;
}

/** Segments cut from the parser's locations, for text the scanner splits differently. */
export function segmentsFromParser(sql: string, stmts: readonly RawLocation[]): Segment[] {
  const toChar = byteToChar(sql);
  return stmts.map((st) => {
    const loc = st.stmt_location ?? 0;
    const start = toChar(loc);
    const end = st.stmt_len ? toChar(loc + st.stmt_len) : sql.length;
    const piece = sql.slice(start, end);
    const inner = scanSql(piece).segments;
    const first = inner[0];
    const last = inner[inner.length - 1];
    if (first === undefined || last === undefined)
      return { start, end: start, literals: [], maxParam: 0, key: null };
    const literals: number[] = [];
    let maxParam = 0;
    for (const s of inner) {
      for (const l of s.literals) literals.push(l + start);
      maxParam = Math.max(maxParam, s.maxParam);
    }
    return { start: first.start + start, end: last.end + start, literals, maxParam, key: null };
  });
}

/** One segment spanning every segment (a statement that failed to parse as a whole). */
export function wholeSegment(segments: readonly Segment[]): Segment {
  const first = segments[0];
  const last = segments[segments.length - 1];
  if (first === undefined || last === undefined) {
    return { start: 0, end: 0, literals: [], maxParam: 0, key: null };
  }
  const literals: number[] = [];
  let maxParam = 0;
  for (const s of segments) {
    for (const l of s.literals) literals.push(l);
    maxParam = Math.max(maxParam, s.maxParam);
  }
  return { start: first.start, end: last.end, literals, maxParam, key: null };
}
