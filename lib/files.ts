// Durable file writes: a file replaced whole through a temp file and a rename, so readers never see
// half of it, and the directory entries that make a new or renamed file survive a crash.

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Makes a new or renamed directory entry durable (an fsync of the file alone does not). */
export function syncDir(dir: string): void {
  const handle = openSync(dir, 'r');
  try {
    fsyncSync(handle);
  } finally {
    closeSync(handle);
  }
}

export interface AtomicWriteOptions {
  /** fsync the file and its directory before returning, so the new content survives a crash. */
  readonly durable?: boolean;
  /** Mode of a newly created file (before the umask); default 0o666. */
  readonly mode?: number;
}

/** Writes through a temp file in the same directory and renames, so readers never see half a file. */
export async function writeFileAtomic(
  file: string,
  bytes: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'w', options.mode ?? 0o666);
    try {
      await handle.writeFile(bytes);
      if (options.durable === true) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  if (options.durable === true) syncDir(path.dirname(file));
}
