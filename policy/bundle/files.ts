// Bounded file reads (size checked before reading), shared by the source reader, the bundle build and
// the bundle loader.

import { readFile, stat } from 'node:fs/promises';

export type ReadResult =
  | { readonly ok: true; readonly bytes: Buffer }
  | {
      readonly ok: false;
      readonly reason: 'missing' | 'too_large' | 'unreadable';
      readonly message: string;
    };

/** Reads a regular file no larger than maxBytes. */
export async function readBytesBounded(file: string, maxBytes: number): Promise<ReadResult> {
  try {
    const info = await stat(file);
    if (!info.isFile())
      return { ok: false, reason: 'unreadable', message: 'is not a regular file' };
    if (info.size > maxBytes) {
      return {
        ok: false,
        reason: 'too_large',
        message: `is ${info.size} bytes, above the limit of ${maxBytes}`,
      };
    }
    const bytes = await readFile(file);
    // The file may have grown between stat and read.
    if (bytes.length > maxBytes) {
      return { ok: false, reason: 'too_large', message: `is above the limit of ${maxBytes} bytes` };
    }
    return { ok: true, bytes };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, reason: 'missing', message: 'is missing' };
    return { ok: false, reason: 'unreadable', message: `cannot be read (${code ?? 'error'})` };
  }
}
