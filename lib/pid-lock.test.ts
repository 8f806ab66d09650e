// Pid lock files: exclusive while the holder lives, released only by their holder, taken over when
// the pid in them is gone or names this process without it holding the lock.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processAlive, releasePidLock, takePidLock } from './pid-lock.js';

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pgward-pid-lock-'));
  file = path.join(dir, 'state.lock');
});

afterEach(async () => {
  releasePidLock(file);
  await rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
function gonePid(): number {
  const run = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(run.stdout.toString());
}

describe('pid lock', () => {
  it('is taken once, names its holder to a second taker, and is removed on release', async () => {
    expect(takePidLock(file)).toBeNull();
    expect((await readFile(file, 'utf8')).trim()).toBe(String(process.pid));
    expect(takePidLock(file)).toBe(process.pid);
    releasePidLock(file);
    expect(existsSync(file)).toBe(false);
    expect(takePidLock(file)).toBeNull();
  });

  it('names a live process that holds it and leaves its file alone', async () => {
    const parent = process.ppid;
    expect(processAlive(parent)).toBe(true);
    await writeFile(file, String(parent));
    expect(takePidLock(file)).toBe(parent);
    releasePidLock(file);
    expect(await readFile(file, 'utf8')).toBe(String(parent));
  });

  it('takes over a lock left by a process that is gone, or by an earlier process under this pid', async () => {
    const gone = gonePid();
    expect(processAlive(gone)).toBe(false);
    await writeFile(file, `${gone}\n`);
    expect(takePidLock(file)).toBeNull();
    releasePidLock(file);
    await writeFile(file, String(process.pid));
    expect(takePidLock(file)).toBeNull();
    expect(takePidLock(file)).toBe(process.pid);
  });
});
