// Byte-level helpers of the demo's PGlite wire server: where a backend output stream stands (its last
// message, its ReadyForQuery status) and how a side connection's messages are spliced into another
// connection's unfinished extended-protocol batch — its unnamed statement and portal renamed so the
// batch's own are untouched, its Sync withheld so the batch's implicit transaction goes on.

import { serialize } from 'pg-protocol';

/** Names a spliced side request uses instead of the unnamed statement and portal. */
export const SIDE_STATEMENT = 'pgward_demo_side';
export const SIDE_PORTAL = 'pgward_demo_side';
/** ReadyForQuery, idle: what a side connection is told once its request is done. */
export const READY_IDLE = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);

export interface OutputTail {
  feed(chunk: Uint8Array): void;
  /** 'I', 'T' or 'E' when the output so far ends with ReadyForQuery; null mid-batch or mid-COPY. */
  status(): string | null;
  /** Type byte of the last message begun (0 before any). */
  lastType(): number;
  /** An ErrorResponse was seen. */
  failed(): boolean;
}

/** Follows backend message boundaries across chunks without buffering them. */
export function outputTail(): OutputTail {
  let need = 0;
  let header: number[] = [];
  let last = 0;
  let status = 0;
  let failed = false;
  return {
    feed(chunk) {
      let i = 0;
      while (i < chunk.length) {
        if (need > 0) {
          if (last === 0x5a && need === 1) status = chunk[i]!;
          const take = Math.min(need, chunk.length - i);
          need -= take;
          i += take;
          continue;
        }
        header.push(chunk[i++]!);
        if (header.length === 5) {
          last = header[0]!;
          if (last === 0x45) failed = true;
          need = ((header[1]! << 24) | (header[2]! << 16) | (header[3]! << 8) | header[4]!) - 4;
          header = [];
        }
      }
    },
    status: () =>
      last === 0x5a && need === 0 && header.length === 0 ? String.fromCharCode(status) : null,
    lastType: () => last,
    failed: () => failed,
  };
}

const cstrEnd = (b: Buffer, from: number) => b.indexOf(0, from);

/** The SQL text of a Query or Parse message; null for any other message. */
export function statementText(msg: Buffer): string | null {
  if (msg[0] === 0x51) return msg.toString('utf8', 5, msg.length - 1);
  if (msg[0] !== 0x50) return null;
  const nameEnd = cstrEnd(msg, 5);
  const textEnd = nameEnd < 0 ? -1 : cstrEnd(msg, nameEnd + 1);
  return textEnd > nameEnd ? msg.toString('utf8', nameEnd + 1, textEnd) : null;
}

function frame(type: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

/** Replaces an empty name at `at` (a C string in the message) by `name`. */
function renameAt(msg: Buffer, at: number, name: string): Buffer {
  if (msg[at] !== 0) return msg;
  return frame(msg[0]!, Buffer.concat([msg.subarray(5, at), Buffer.from(name), msg.subarray(at)]));
}

/**
 * The messages that run for one frontend message of a spliced side request, unnamed objects
 * renamed; a simple Query becomes Parse/Bind/Describe/Execute/Close. Sync maps to nothing.
 */
export function spliceMessage(msg: Buffer): Buffer[] {
  switch (msg[0]) {
    case 0x51: {
      const text = msg.toString('utf8', 5, msg.length - 1);
      return [
        serialize.parse({ name: SIDE_STATEMENT, text }),
        serialize.bind({ portal: SIDE_PORTAL, statement: SIDE_STATEMENT }),
        serialize.describe({ type: 'P', name: SIDE_PORTAL }),
        serialize.execute({ portal: SIDE_PORTAL }),
        ...closeSide(),
      ];
    }
    case 0x50: // Parse: name first
      return [renameAt(msg, 5, SIDE_STATEMENT)];
    case 0x42: {
      // Bind: portal, then statement
      const renamed = renameAt(msg, 5, SIDE_PORTAL);
      return [renameAt(renamed, cstrEnd(renamed, 5) + 1, SIDE_STATEMENT)];
    }
    case 0x44: // Describe and Close: a kind byte, then the name
    case 0x43:
      return [renameAt(msg, 6, msg[5] === 0x53 ? SIDE_STATEMENT : SIDE_PORTAL)];
    case 0x45: // Execute: portal first
      return [renameAt(msg, 5, SIDE_PORTAL)];
    case 0x53:
      return [];
    default:
      return [msg];
  }
}

/** Closes the renamed statement and portal (closing what does not exist is not an error). */
export function closeSide(): Buffer[] {
  return [
    serialize.close({ type: 'P', name: SIDE_PORTAL }),
    serialize.close({ type: 'S', name: SIDE_STATEMENT }),
  ];
}

/** Drops the completions a simple Query would not have produced (and NoData for a Query). */
export function spliceOutput(out: Buffer, wasQuery: boolean): Buffer {
  const keep: Buffer[] = [];
  for (let i = 0; i + 5 <= out.length; ) {
    const end = i + 1 + out.readInt32BE(i + 1);
    const type = out[i]!;
    const dropped = type === 0x31 || type === 0x32 || type === 0x33 || (wasQuery && type === 0x6e);
    if (!dropped) keep.push(out.subarray(i, end));
    i = end;
  }
  return Buffer.concat(keep);
}
