// The statement fingerprint: a hash of the parse tree the analyzer already holds, without literal
// values, parameter numbers and locations, so statements of one shape share it (no second parse).

import { hash } from 'node:crypto';

/**
 * Fingerprint format version, the first byte hashed: a change of what is hashed must change it so
 * that fingerprints of different formats never compare equal by accident.
 */
const VERSION = 1;

/**
 * Deepest nesting of the parse tree's JSON form walked; a deeper tree has no fingerprint (''). Far
 * above what a statement the walkers accept reaches, and far below the JS stack limit.
 */
export const FINGERPRINT_MAX_DEPTH = 2_000;

// Tag bytes: each value is written as a tag, then its content; a string carries its length, so
// the encoding is injective (two different trees never produce the same bytes).
const OBJECT = 0xf0;
const END_OBJECT = 0xf1;
const ARRAY = 0xf2;
const END_ARRAY = 0xf3;
const KEY = 0xf4;
const STRING = 0xf5;
const NUMBER = 0xf6;
const TRUE = 0xf7;
const FALSE = 0xf8;
const CONSTANT = 0xf9;
const NULL = 0xfa;

/** Positions in the text: the same statement written differently moves them. */
const LOCATIONS: ReadonlySet<string> = new Set([
  'location',
  'list_start',
  'list_end',
  'rexpr_list_start',
  'rexpr_list_end',
  'name_location',
  'stmt_location',
  'stmt_len',
]);

/**
 * Names a client generates afresh for each statement (prepared statements, cursors, savepoints,
 * two-phase transactions): ignored in the statement node that carries them.
 */
const GENERATED_NAMES: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['PrepareStmt', new Set(['name'])],
  ['ExecuteStmt', new Set(['name'])],
  ['DeallocateStmt', new Set(['name'])],
  ['DeclareCursorStmt', new Set(['portalname'])],
  ['ClosePortalStmt', new Set(['portalname'])],
  ['FetchStmt', new Set(['portalname'])],
  ['TransactionStmt', new Set(['savepoint_name', 'gid'])],
]);

const INITIAL_SIZE = 16 * 1024;
/** A buffer grown past this by one huge statement is dropped after use. */
const KEEP_SIZE = 1024 * 1024;

let buf = new Uint8Array(INITIAL_SIZE);
let len = 0;
let overflow = false;

function reserve(bytes: number): void {
  if (len + bytes <= buf.length) return;
  const grown = new Uint8Array(Math.max(buf.length * 2, len + bytes));
  grown.set(buf.subarray(0, len));
  buf = grown;
}

function tag(t: number): void {
  if (len >= buf.length) reserve(1);
  buf[len++] = t;
}

/** A tag, the length in UTF-16 code units (varint), then each unit (ASCII in one byte). */
function text(t: number, s: string): void {
  const n = s.length;
  reserve(6 + 3 * n);
  const b = buf;
  let i = len;
  b[i++] = t;
  let l = n;
  while (l >= 0x80) {
    b[i++] = (l & 0x7f) | 0x80;
    l >>>= 7;
  }
  b[i++] = l;
  for (let j = 0; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 0x80) b[i++] = c;
    else {
      // 0x80 never starts a one-byte unit, so the three-byte form cannot be misread.
      b[i++] = 0x80;
      b[i++] = c & 0xff;
      b[i++] = c >>> 8;
    }
  }
  len = i;
}

function value(v: unknown, depth: number): void {
  if (typeof v === 'string') text(STRING, v);
  else if (typeof v === 'object' && v !== null) {
    if (Array.isArray(v)) array(v, depth + 1, false);
    else object(v as Record<string, unknown>, depth + 1, undefined, NORMAL);
  } else if (typeof v === 'number') text(NUMBER, String(v));
  else if (typeof v === 'boolean') tag(v ? TRUE : FALSE);
  else tag(NULL);
}

/**
 * An array; with `collapse`, an item written exactly like the one before it is dropped, so
 * `IN (1, 2, 3)` and `IN (4)` (or VALUES lists of like rows) share one shape.
 */
function array(items: readonly unknown[], depth: number, collapse: boolean): void {
  if (depth > FINGERPRINT_MAX_DEPTH) {
    overflow = true;
    return;
  }
  tag(ARRAY);
  let prevStart = -1;
  for (const item of items) {
    const start = len;
    value(item, depth);
    if (collapse && prevStart >= 0 && sameBytes(prevStart, start, len)) len = start;
    else prevStart = start;
  }
  tag(END_ARRAY);
}

/** Whether buf[a, b) equals buf[b, end). */
function sameBytes(a: number, b: number, end: number): boolean {
  if (b - a !== end - b) return false;
  const x = buf;
  for (let i = a, j = b; i < b; i++, j++) if (x[i] !== x[j]) return false;
  return true;
}

/** Where an object sits: anywhere, the right side of IN (`{List: ...}`), or that List's payload. */
const NORMAL = 0;
const IN_LIST = 1;
const IN_ITEMS = 2;

function object(
  obj: Record<string, unknown>,
  depth: number,
  ignored: ReadonlySet<string> | undefined,
  place: number,
): void {
  if (depth > FINGERPRINT_MAX_DEPTH) {
    overflow = true;
    return;
  }
  tag(OBJECT);
  for (const k in obj) {
    if (ignored?.has(k)) continue;
    const v = obj[k];
    if (typeof v === 'object' && v !== null) {
      if (Array.isArray(v)) {
        text(KEY, k);
        const collapse =
          k === 'valuesLists' || k === 'elements' || (place === IN_ITEMS && k === 'items');
        array(v, depth + 1, collapse);
      } else if (k === 'A_Const' || k === 'ParamRef' || k === 'Integer' || k === 'Float') {
        // A constant's value, a parameter's number and a number written in the text (an array
        // bound, an option's value) are literals: only their place counts.
        tag(CONSTANT);
      } else {
        text(KEY, k);
        let inner = NORMAL;
        if (k === 'rexpr' && obj.kind === 'AEXPR_IN') inner = IN_LIST;
        else if (place === IN_LIST && k === 'List') inner = IN_ITEMS;
        object(v as Record<string, unknown>, depth + 1, undefined, inner);
      }
    } else if (typeof v === 'string') {
      text(KEY, k);
      text(STRING, v);
    } else if (typeof v !== 'number' || !LOCATIONS.has(k)) {
      // Only numbers can be locations: other keys skip the lookup.
      text(KEY, k);
      value(v, depth);
    }
  }
  tag(END_OBJECT);
}

/**
 * The fingerprint of one statement node (a RawStmt's `stmt`; undefined for an empty statement):
 * 16 hex digits, or '' when the tree is nested deeper than FINGERPRINT_MAX_DEPTH.
 */
export function treeFingerprint(stmt: unknown): string {
  len = 0;
  overflow = false;
  tag(VERSION);
  try {
    const type = stmtType(stmt);
    if (type === undefined) value(stmt, 0);
    else {
      // Written as the generic walk writes it, but for the names the client generates.
      tag(OBJECT);
      text(KEY, type);
      const payload = (stmt as Record<string, unknown>)[type];
      if (typeof payload === 'object' && payload !== null && !Array.isArray(payload)) {
        object(payload as Record<string, unknown>, 2, GENERATED_NAMES.get(type), NORMAL);
      } else value(payload, 1);
      tag(END_OBJECT);
    }
    return overflow ? '' : hash('sha256', buf.subarray(0, len), 'hex').slice(0, 16);
  } finally {
    if (buf.length > KEEP_SIZE) buf = new Uint8Array(INITIAL_SIZE);
  }
}

/** The type of a wrapped statement node whose generated names are ignored, else undefined. */
function stmtType(stmt: unknown): string | undefined {
  if (typeof stmt !== 'object' || stmt === null || Array.isArray(stmt)) return undefined;
  let only: string | undefined;
  for (const k in stmt) {
    if (only !== undefined) return undefined;
    only = k;
  }
  return only !== undefined && GENERATED_NAMES.has(only) ? only : undefined;
}
