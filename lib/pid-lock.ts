// Pid lock files: a file holding the pid of the process that owns some on-disk state (the audit spool,
// the approval-uses ledger), created exclusively so two live processes never both own it. A lock left
// behind by a process that is gone is taken over.

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

/** Whether a process with this pid exists (EPERM: it does, but belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock files this process holds: its own pid in a lock file not listed is an earlier process's. */
const held = new Set<string>();

/**
 * Takes the lock file for this process: null once taken, else the pid of the live process holding it
 * (this process's own pid when it already holds it). Throws only when the file system refuses.
 */
export function takePidLock(file: string): number | null {
  const key = path.resolve(file);
  if (held.has(key)) return process.pid;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(key, 'wx', 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      held.add(key);
      return null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number.parseInt(readFileSync(key, 'utf8'), 10);
    if (
      Number.isSafeInteger(holder) &&
      holder > 0 &&
      holder !== process.pid &&
      processAlive(holder)
    )
      return holder;
    // Left by a process that is gone (or by an earlier one under this pid): taken over.
    unlinkSync(key);
  }
  throw new Error(`${key} could not be created`);
}

/** Releases a lock this process holds (removing its file); anything else is left alone. */
export function releasePidLock(file: string): void {
  const key = path.resolve(file);
  if (!held.delete(key)) return;
  try {
    unlinkSync(key);
  } catch {
    // Already gone: nothing to release.
  }
}
