// The writer's queue: encoded rows kept as bytes, one growable buffer per table, in arrival order. Rows
// wait up to flush_ms before their batch is sent; as bytes outside the JavaScript heap they cost the
// garbage collector nothing while they wait, and a batch goes to the store without another copy.

import type { AuditEntry, AuditRows } from './record.js';

const INITIAL_BYTES = 1 << 20;
const NEWLINE = 0x0a;

class TableBytes {
  #buf = Buffer.allocUnsafe(INITIAL_BYTES);
  #used = 0;
  /** End offset (past the newline) of each row held. */
  #ends: number[] = [];
  #head = 0;

  get rows(): number {
    return this.#ends.length - this.#head;
  }

  push(row: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit; plus the newline.
    const worst = row.length * 3 + 1;
    if (this.#used + worst > this.#buf.length) this.#grow(this.#used + worst);
    this.#used += this.#buf.write(row, this.#used, 'utf8');
    this.#buf[this.#used++] = NEWLINE;
    this.#ends.push(this.#used);
  }

  /** The first `n` rows' bytes (a copy), removed from the queue. */
  take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const end = this.#ends[this.#head + n - 1] as number;
    const out = Buffer.from(this.#buf.subarray(0, end));
    this.#buf.copyWithin(0, end, this.#used);
    this.#used -= end;
    this.#head += n;
    if (this.#head === this.#ends.length) {
      this.#ends = [];
      this.#head = 0;
      // A burst's capacity is given back once the queue drains.
      if (this.#buf.length > 4 * INITIAL_BYTES) this.#buf = Buffer.allocUnsafe(INITIAL_BYTES);
    } else {
      if (this.#head > 1024) {
        this.#ends = this.#ends.slice(this.#head);
        this.#head = 0;
      }
      for (let i = this.#head; i < this.#ends.length; i++)
        this.#ends[i] = (this.#ends[i] as number) - end;
    }
    return out;
  }

  #grow(needed: number): void {
    let size = this.#buf.length * 2;
    while (size < needed) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#used);
    this.#buf = next;
  }
}

export class RowQueue {
  readonly #statements = new TableBytes();
  readonly #sessions = new TableBytes();
  /** Per queued row in arrival order: true for a statement row. */
  #order: boolean[] = [];
  #head = 0;

  get length(): number {
    return this.#order.length - this.#head;
  }

  push(entry: AuditEntry): void {
    const statement = entry.table === 'statements';
    (statement ? this.#statements : this.#sessions).push(entry.row);
    this.#order.push(statement);
  }

  /** The oldest `n` rows (at most all) as a batch. */
  take(n: number): AuditRows {
    const count = Math.min(n, this.length);
    let statements = 0;
    for (let i = this.#head; i < this.#head + count; i++) if (this.#order[i]) statements += 1;
    this.#head += count;
    if (this.#head === this.#order.length) {
      this.#order = [];
      this.#head = 0;
    } else if (this.#head > 4096) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
    return {
      statements: this.#statements.take(statements),
      sessions: this.#sessions.take(count - statements),
      rows: count,
    };
  }
}

/** The rows of a table's bytes as lines (for tests and the spool's text form). */
export function lines(bytes: Buffer): string[] {
  const text = bytes.toString('utf8');
  return text === '' ? [] : text.slice(0, -1).split('\n');
}

/** Lines as a table's bytes: each followed by a newline. */
export function bytesOf(rows: readonly string[]): Buffer {
  return Buffer.from(rows.map((r) => `${r}\n`).join(''), 'utf8');
}
