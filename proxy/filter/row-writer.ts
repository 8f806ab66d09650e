// Writes masked DataRows straight into the outbound bytes: the field plan is compiled once per row width,
// unmasked fields are copied in runs that span rows, and masked values are written as bytes, not strings.
// @see https://www.postgresql.org/docs/current/protocol-message-formats.html (DataRow)

import {
  copyBytes,
  isTextLike,
  MASK_GROWTH,
  type Masker,
  type MaskMethod,
} from './mask-methods.js';
import type { FieldPlan } from './row-masker.js';

/** Where rewritten DataRows go: room is reserved, written from `at` on, then committed. */
export interface RowSink {
  /** A buffer with at least `n` free bytes from `at` on (reserved, uncommitted bytes are dropped). */
  reserve(n: number): Buffer;
  /** Where in the last reserved buffer the next bytes go. */
  readonly at: number;
  /** The bytes of the last reserved buffer up to `end` are written and go out in order. */
  commit(end: number): void;
}

const DATA_ROW = 0x44;
/** DataRow header: type, int32 length, int16 field count. */
const ROW_HEADER = 7;
const NULL_FIELD = Buffer.from([0xff, 0xff, 0xff, 0xff]);

/** What happens to one field: kept byte for byte, replaced by a constant, or masked by its value. */
const KEEP = 0;
const CONSTANT = 1;
const VALUE = 2;

/** A plan compiled for rows of `count` fields. */
interface RowProgram {
  readonly count: number;
  readonly ops: Uint8Array;
  /** Per CONSTANT field: the whole replacement field (length prefix included). */
  readonly constants: readonly (Buffer | undefined)[];
  /** Per VALUE field: the method and the column type. */
  readonly methods: readonly (MaskMethod | null)[];
  readonly types: readonly number[];
  /** Most bytes a row grows by when rewritten. */
  readonly growth: number;
  /** Fields read per row: up to the last masked one (the rest pass as sent, unread). */
  readonly walk: number;
}

/**
 * Replacements that do not depend on the value (redact, null, and any method on a non-text type) are
 * computed once per plan and row width.
 */
const programs = new WeakMap<FieldPlan, RowProgram>();

function programOf(plan: FieldPlan, count: number, masker: Masker): RowProgram {
  let program = programs.get(plan);
  if (program === undefined || program.count !== count) {
    program = compile(plan, count, masker);
    programs.set(plan, program);
  }
  return program;
}

function compile(plan: FieldPlan, count: number, masker: Masker): RowProgram {
  const ops = new Uint8Array(count);
  const constants: (Buffer | undefined)[] = [];
  const methods: (MaskMethod | null)[] = [];
  const types: number[] = [];
  let growth = 0;
  let walk = 0;
  for (let i = 0; i < count; i++) {
    const method = plan.all ?? plan.methods[i] ?? null;
    const type = plan.types[i] ?? 0;
    let constant: Buffer | undefined;
    if (method === null) ops[i] = KEEP;
    else if (method === 'null' || !isTextLike(type)) constant = NULL_FIELD;
    else if (method === 'redact') {
      const text = masker.mask('redact', '', type);
      constant = text === null ? NULL_FIELD : lengthPrefixed(text);
    } else {
      ops[i] = VALUE;
      growth += MASK_GROWTH;
    }
    if (constant !== undefined) {
      ops[i] = CONSTANT;
      // The field it replaces has at least its 4-byte length.
      growth += constant.length - 4;
    }
    if (method !== null) walk = i + 1;
    constants.push(constant);
    methods.push(method);
    types.push(type);
  }
  return { count, ops, constants, methods, types, growth, walk };
}

/**
 * Writes the DataRows `src[start, end)` (whole messages, back to back) rewritten per the plan into `out`;
 * unmasked fields and NULLs go byte for byte. Fields are read up to the last masked one; those after it
 * are not masked and pass as sent. Returns false when a row is malformed (not a DataRow, a field read
 * overruns it, or, read to the end, its fields do not fill it): that row and the ones after it are not
 * written.
 */
export function writeMaskedRows(
  src: Buffer,
  start: number,
  end: number,
  plan: FieldPlan,
  masker: Masker,
  out: RowSink,
): boolean {
  for (let pos = start; pos < end; ) {
    pos = writeStaged(src, pos, end, plan, masker, out);
    if (pos < 0) return false;
  }
  return true;
}

/**
 * Writes rows from `start` on; returns where it stopped (`end`, or the end of a row it had to write the
 * long way), or -1 for a malformed row. The rows are first copied whole into the output buffer, `growth`
 * bytes past where they are written, so each unmasked stretch is then moved within that one buffer
 * (copyWithin) instead of copied across buffers. Output never overtakes the staged bytes it still reads:
 * up to a source offset it is at most that many bytes plus the growth of the rows so far.
 */
function writeStaged(
  src: Buffer,
  start: number,
  end: number,
  plan: FieldPlan,
  masker: Masker,
  out: RowSink,
): number {
  let growth = 0;
  let program: RowProgram | null = null;
  for (let pos = start; pos < end; ) {
    if (end - pos < ROW_HEADER || src[pos] !== DATA_ROW) return -1;
    const rowEnd = pos + 1 + readInt32(src, pos + 1);
    if (rowEnd > end || rowEnd < pos + ROW_HEADER) return -1;
    const count = ((src[pos + 5]! << 24) | (src[pos + 6]! << 16)) >> 16;
    if (count < 0) return -1;
    if (program === null || program.count !== count) program = programOf(plan, count, masker);
    growth += program.growth;
    pos = rowEnd;
  }
  const buf = out.reserve(end - start + growth);
  let at = out.at;
  // The staged copy of source offset p is at p + stage. SECURITY: it holds the unmasked values, past
  // `at`; only bytes written as output (up to `at`) are ever committed.
  const stage = at + growth - start;
  src.copy(buf, start + stage, start, end);
  // Source bytes from `run` to the current row or field are unchanged and not moved yet.
  let run = start;
  for (let pos = start; pos < end; ) {
    const rowEnd = pos + 1 + readInt32(src, pos + 1);
    const count = ((src[pos + 5]! << 24) | (src[pos + 6]! << 16)) >> 16;
    if (program!.count !== count) program = programOf(plan, count, masker);
    const { ops, walk } = program!;
    // Where this row's header lands once the pending bytes are moved.
    const rowAt = at + (pos - run);
    let field = pos + ROW_HEADER;
    let changed = false;
    for (let i = 0; i < walk; i++) {
      const len = readInt32(src, field);
      const next = len < 0 ? field + 4 : field + 4 + len;
      // Also true when the length itself does not fit (next is at least field + 4).
      if (next > rowEnd) return -1;
      const op = ops[i];
      if (op === KEEP || len < 0) {
        field = next;
        continue;
      }
      if (field > run) {
        buf.copyWithin(at, run + stage, field + stage);
        at += field - run;
      }
      if (op === CONSTANT) {
        const constant = program!.constants[i]!;
        at += copyBytes(constant, 0, constant.length, buf, at);
      } else {
        // Values are read from the source, never from the staged bytes this field's output may cover.
        const method = program!.methods[i]!;
        let n = masker.write?.(method, src, field + 4, next, buf, at + 4) ?? -1;
        // A byte form past its promised room may have written over staged bytes: fail closed.
        if (n > len + MASK_GROWTH) return -1;
        if (n < 0) {
          const text = masker.mask(
            method,
            src.toString('utf8', field + 4, next),
            program!.types[i]!,
          );
          if (text !== null) {
            n = Buffer.byteLength(text);
            if (n > len + MASK_GROWTH) {
              // More than the room kept for this field: this row is written the long way.
              out.commit(rowAt);
              return writeRowByParts(src, pos, rowEnd, program!, masker, out) ? rowEnd : -1;
            }
            buf.write(text, at + 4, n, 'utf8');
          }
        }
        writeInt32(buf, at, n);
        at += n < 0 ? 4 : 4 + n;
      }
      field = next;
      run = next;
      changed = true;
    }
    // Read to the end, the fields must fill the row exactly.
    if (walk === count && field !== rowEnd) return -1;
    // A row with a masked field has had its header moved: its length is set now.
    if (changed) writeInt32(buf, rowAt + 1, at + (rowEnd - run) - rowAt - 1);
    pos = rowEnd;
  }
  if (end > run) {
    buf.copyWithin(at, run + stage, end + stage);
    at += end - run;
  }
  out.commit(at);
  return end;
}

/** One row whose masked values were not bounded in advance: each field built first, then written. */
function writeRowByParts(
  src: Buffer,
  start: number,
  end: number,
  program: RowProgram,
  masker: Masker,
  out: RowSink,
): boolean {
  const parts: Buffer[] = [];
  let size = ROW_HEADER;
  let field = start + ROW_HEADER;
  for (let i = 0; i < program.count; i++) {
    if (end - field < 4) return false;
    const len = readInt32(src, field);
    const next = len < 0 ? field + 4 : field + 4 + len;
    if (next > end) return false;
    const op = program.ops[i];
    let part: Buffer;
    if (op === KEEP || len < 0) part = src.subarray(field, next);
    else if (op === CONSTANT) part = program.constants[i]!;
    else {
      const text = masker.mask(
        program.methods[i]!,
        src.toString('utf8', field + 4, next),
        program.types[i]!,
      );
      part = text === null ? NULL_FIELD : lengthPrefixed(text);
    }
    parts.push(part);
    size += part.length;
    field = next;
  }
  if (field !== end) return false;
  const buf = out.reserve(size);
  let at = out.at;
  buf[at] = DATA_ROW;
  writeInt32(buf, at + 1, size - 1);
  buf[at + 5] = src[start + 5]!;
  buf[at + 6] = src[start + 6]!;
  at += ROW_HEADER;
  for (const part of parts) at += part.copy(buf, at);
  out.commit(at);
  return true;
}

function readInt32(buf: Buffer, at: number): number {
  return (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
}

function writeInt32(buf: Buffer, at: number, value: number): void {
  buf[at] = value >>> 24;
  buf[at + 1] = value >>> 16;
  buf[at + 2] = value >>> 8;
  buf[at + 3] = value;
}

function lengthPrefixed(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const out = Buffer.allocUnsafe(4 + bytes.length);
  out.writeInt32BE(bytes.length, 0);
  bytes.copy(out, 4);
  return out;
}
