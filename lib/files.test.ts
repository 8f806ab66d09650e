// Atomic file replacement: the new content whole or the old one, no temp file left behind, the mode of
// a new file as asked.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './files.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pgward-files-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('replaces a file whole, durably when asked, with the mode asked for and no temp file left', async () => {
    const file = path.join(dir, 'state.jsonl');
    await writeFile(file, 'old\n');
    await writeFileAtomic(file, 'new\n', { durable: true, mode: 0o600 });
    expect(await readFile(file, 'utf8')).toBe('new\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await writeFileAtomic(file, Buffer.from('bytes'));
    expect(await readFile(file, 'utf8')).toBe('bytes');
    expect(await readdir(dir)).toEqual(['state.jsonl']);
  });

  it('throws and leaves no temp file when the rename fails', async () => {
    // A directory that is not empty where the file should go: renaming over it fails.
    const target = path.join(dir, 'taken');
    await mkdir(path.join(target, 'inside'), { recursive: true });
    await expect(writeFileAtomic(target, 'new', { durable: true })).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['taken']);
  });
});
