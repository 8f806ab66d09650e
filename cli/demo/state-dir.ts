// The demo's state directory (default .pgward/demo under the working directory): wiped at every start
// so each run begins from the same seed — except cache/, which holds the seeded databases' dumps, the
// same bytes for the same seed — guarded by a marker (only a directory the demo made is ever wiped)
// and by a pid file (a directory a running demo uses is left alone).

import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PgwardError } from '../../lib/errors.js';
import { processAlive } from '../../lib/pid-lock.js';

const MARKER = '.pgward-demo';
/** Kept across starts: content-addressed, so reusing it changes nothing but the start-up time. */
export const CACHE_DIR = 'cache';
const PID_FILE = 'demo.pid';

export interface StateDir {
  readonly path: string;
  /** Removes the pid file (the data stays for a look after the demo ends). */
  release(): Promise<void>;
}

/** Empties (or creates) the state directory and claims it for this process. */
export async function claimStateDir(dir: string): Promise<StateDir> {
  const root = path.resolve(dir);
  const entries = await readdir(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (entries !== null && entries.length > 0) {
    if (!entries.includes(MARKER)) {
      throw new PgwardError(
        'PGW_CONFIG_INVALID',
        `${root} is not empty and was not made by pgward demo; choose another --state-dir`,
      );
    }
    const pid = Number.parseInt(
      await readFile(path.join(root, PID_FILE), 'utf8').catch(() => ''),
      10,
    );
    if (Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) {
      throw new PgwardError(
        'PGW_CONFIG_INVALID',
        `a pgward demo (pid ${pid}) is running with ${root}; stop it or choose another --state-dir`,
      );
    }
    for (const name of entries)
      if (name !== CACHE_DIR) await rm(path.join(root, name), { recursive: true, force: true });
  }
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, MARKER), 'made by pgward demo; wiped at every start\n');
  await writeFile(path.join(root, PID_FILE), `${process.pid}\n`);
  return {
    path: root,
    release: () => rm(path.join(root, PID_FILE), { force: true }),
  };
}
