// Deterministic COPY text data generated on demand (bounded memory whatever the size) and a hashing sink,
// so ~100 MB streams can be checked against PostgreSQL's own md5 without ever being held in memory.
// test/drivers/py/copy_rows.py generates the same rows.
import { createHash, type Hash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const BASE = ALPHABET.repeat(3);
const CHUNK_BYTES = 64 * 1024;

/** Row `i` (1-based) as one COPY text line: `i<TAB>payload<LF>`, about 99 bytes. */
export function copyLine(i: number): string {
  const start = i % ALPHABET.length;
  return `${i}\t${BASE.slice(start, start + 90)}\n`;
}

/** Table the COPY scenarios load and read back. */
export const COPY_TABLE_DDL =
  'create unlogged table copy_rows (id int not null, payload text not null)';

/** PostgreSQL's digest of the table in the exact byte form of COPY text output ordered by id. */
export const COPY_TABLE_DIGEST_SQL = `select count(*)::int as rows,
  md5(string_agg(id::text || E'\\t' || payload || E'\\n', '' order by id)) as md5 from copy_rows`;

/** The read-back query, in id order so its bytes match the digest above. */
export const COPY_OUT_QUERY = 'select id, payload from copy_rows order by id';
export const COPY_OUT_SQL = `copy (${COPY_OUT_QUERY}) to stdout`;

export interface StreamDigest {
  rows: number;
  bytes: number;
  md5: string;
}

/** A Readable of rows 1..count in ~64 KB chunks; `digest()` is valid once it has ended. */
export function copyRowsSource(count: number): { stream: Readable; digest(): StreamDigest } {
  const hash = createHash('md5');
  let next = 1;
  let bytes = 0;
  let md5: string | null = null;
  const stream = new Readable({
    read() {
      if (next > count) {
        md5 ??= hash.digest('hex');
        this.push(null);
        return;
      }
      let text = '';
      while (next <= count && text.length < CHUNK_BYTES) text += copyLine(next++);
      const chunk = Buffer.from(text, 'latin1');
      hash.update(chunk);
      bytes += chunk.length;
      this.push(chunk);
    },
  });
  return {
    stream,
    digest() {
      if (md5 === null) throw new Error('the source has not ended');
      return { rows: count, bytes, md5 };
    },
  };
}

/** Incremental digest of received COPY text: md5 over the bytes and a count of line feeds. */
export class DigestSink {
  readonly #hash: Hash = createHash('md5');
  #rows = 0;
  #bytes = 0;

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) this.#rows++;
  }

  digest(): StreamDigest {
    return { rows: this.#rows, bytes: this.#bytes, md5: this.#hash.digest('hex') };
  }

  /** A Writable feeding this sink (for pipeline()). */
  writable(): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.update(chunk);
        done();
      },
    });
  }
}
