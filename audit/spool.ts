// The local append-only spool: batches the store could not take, as fsync'd JSON lines in numbered
// segment files, replayed oldest first. A line is `{"batch":id,"rows":…}` or `{"ack":id}` once the store
// took the batch; a segment whose batches are all acknowledged is deleted. A torn last line (a crash
// mid-append) was never reported durable and is skipped. One process owns the directory (a pid lock).

import {
  closeSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { syncDir } from '../lib/files.js';
import { releasePidLock, takePidLock } from '../lib/pid-lock.js';
import { sessionLine, statementLine } from './encode.js';
import type { AuditRows, SessionRecord, StatementRecord } from './record.js';
import { bytesOf, lines } from './row-queue.js';

export interface SpooledBatch {
  readonly id: string;
  readonly rows: AuditRows;
}

export interface Spool {
  /** Bytes on disk across segments. */
  readonly bytes: number;
  /** Batches not yet acknowledged. */
  readonly pending: number;
  /** Appends and fsyncs one batch; it is durable when this returns. */
  append(batch: SpooledBatch): void;
  /** The oldest pending batch, read back from disk. */
  peek(): SpooledBatch | null;
  /** Marks the oldest pending batch stored (it must be `id`). */
  ack(id: string): void;
  close(): void;
}

export interface SpoolOptions {
  readonly dir: string;
  /** A segment past this size is sealed and the next append starts a new one. */
  readonly segmentBytes?: number;
}

interface Location {
  readonly id: string;
  readonly segment: number;
  readonly offset: number;
  readonly length: number;
}

const SEGMENT = /^segment-(\d{8})\.jsonl$/;
const segmentName = (n: number) => `segment-${String(n).padStart(8, '0')}.jsonl`;

/**
 * Rows as a spool line holds them: each table's lines as one text, or (spools written by earlier
 * versions) as an array of record objects.
 */
interface SpooledRows {
  readonly statements: string | readonly (string | StatementRecord)[];
  readonly sessions: string | readonly (string | SessionRecord)[];
}

const spooledText = (rows: AuditRows) => ({
  statements: rows.statements.toString('utf8'),
  sessions: rows.sessions.toString('utf8'),
});

/** A spooled batch as rows again; record objects become the lines they encode to. */
function spooledRows(rows: SpooledRows): AuditRows {
  const table = <R>(held: string | readonly (string | R)[], encode: (r: R) => string): Buffer =>
    typeof held === 'string'
      ? Buffer.from(held, 'utf8')
      : bytesOf(held.map((r) => (typeof r === 'string' ? r : encode(r))));
  const statements = table(rows.statements, statementLine);
  const sessions = table(rows.sessions, sessionLine);
  return { statements, sessions, rows: lines(statements).length + lines(sessions).length };
}

export class SpoolLockedError extends Error {
  override readonly name = 'SpoolLockedError';
}

function lock(dir: string): string {
  const file = path.join(dir, 'lock');
  const holder = takePidLock(file);
  if (holder === process.pid) throw new SpoolLockedError(`spool ${dir} is already open`);
  if (holder !== null) throw new SpoolLockedError(`spool ${dir} is in use by process ${holder}`);
  return file;
}

export function openSpool(options: SpoolOptions): Spool {
  const { dir } = options;
  const segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
  mkdirSync(dir, { recursive: true });
  const lockFile = lock(dir);
  const sizes = new Map<number, number>();
  const pendingIn = new Map<number, number>();
  const queue: Location[] = [];
  let head = 0;

  // Recover: every segment in order; batches without an ack are pending.
  const existing = readdirSync(dir)
    .map((f) => SEGMENT.exec(f))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  for (const n of existing) {
    const file = path.join(dir, segmentName(n));
    const text = readFileSync(file);
    sizes.set(n, text.length);
    const found: Location[] = [];
    const acked = new Set<string>();
    let offset = 0;
    while (offset < text.length) {
      const end = text.indexOf(0x0a, offset);
      if (end < 0) break; // torn tail: never fsync'd as a whole line
      const line = text.subarray(offset, end);
      try {
        const parsed = JSON.parse(line.toString('utf8')) as { batch?: string; ack?: string };
        if (typeof parsed.batch === 'string')
          found.push({ id: parsed.batch, segment: n, offset, length: line.length });
        else if (typeof parsed.ack === 'string') acked.add(parsed.ack);
      } catch {
        // An unparsable line cannot be replayed; the batches around it still are.
      }
      offset = end + 1;
    }
    const pending = found.filter((l) => !acked.has(l.id));
    if (pending.length === 0) {
      unlinkSync(file);
      sizes.delete(n);
      continue;
    }
    queue.push(...pending);
    pendingIn.set(n, pending.length);
  }
  let active = (existing[existing.length - 1] ?? 0) + 1;
  let fd: number | null = null;
  let bytes = [...sizes.values()].reduce((a, b) => a + b, 0);

  const writeLine = (segment: number, line: Buffer, sync: boolean): number => {
    const file = path.join(dir, segmentName(segment));
    const own = segment === active;
    if (own && fd === null) {
      fd = openSync(file, 'a');
      syncDir(dir);
    }
    const handle = own && fd !== null ? fd : openSync(file, 'a');
    try {
      const offset = fstatSync(handle).size;
      writeSync(handle, line);
      if (sync) fsyncSync(handle);
      sizes.set(segment, offset + line.length);
      bytes += line.length;
      return offset;
    } finally {
      if (handle !== fd) closeSync(handle);
    }
  };

  const drop = (segment: number) => {
    if (segment === active && fd !== null) {
      closeSync(fd);
      fd = null;
      active += 1;
    }
    bytes -= sizes.get(segment) ?? 0;
    sizes.delete(segment);
    pendingIn.delete(segment);
    unlinkSync(path.join(dir, segmentName(segment)));
  };

  return {
    get bytes() {
      return bytes;
    },
    get pending() {
      return queue.length - head;
    },
    append(batch) {
      if ((sizes.get(active) ?? 0) >= segmentBytes && fd !== null) {
        closeSync(fd);
        fd = null;
        active += 1;
      }
      const body = Buffer.from(JSON.stringify({ batch: batch.id, rows: spooledText(batch.rows) }));
      const offset = writeLine(active, Buffer.concat([body, Buffer.from('\n')]), true);
      queue.push({ id: batch.id, segment: active, offset, length: body.length });
      pendingIn.set(active, (pendingIn.get(active) ?? 0) + 1);
    },
    peek() {
      const loc = queue[head];
      if (loc === undefined) return null;
      const file = openSync(path.join(dir, segmentName(loc.segment)), 'r');
      try {
        const buf = Buffer.alloc(loc.length);
        readSync(file, buf, 0, loc.length, loc.offset);
        const parsed = JSON.parse(buf.toString('utf8')) as { batch: string; rows: SpooledRows };
        return { id: parsed.batch, rows: spooledRows(parsed.rows) };
      } finally {
        closeSync(file);
      }
    },
    ack(id) {
      const loc = queue[head];
      if (loc === undefined || loc.id !== id)
        throw new Error(`spool ack out of order: ${id} is not the oldest pending batch`);
      head += 1;
      if (head > 1024 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
      const left = (pendingIn.get(loc.segment) ?? 1) - 1;
      if (left === 0) drop(loc.segment);
      else {
        pendingIn.set(loc.segment, left);
        // Not fsync'd: a lost ack only means a replay the deduplication token absorbs.
        writeLine(loc.segment, Buffer.from(`${JSON.stringify({ ack: id })}\n`), false);
      }
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
      releasePidLock(lockFile);
    },
  };
}
