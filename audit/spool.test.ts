import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toSessionOpened } from './map.js';
import { openSpool } from './spool.js';
import { observedSession, rowsOf, sealedRecords } from './testing/records.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pgward-spool-format-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('spool format', () => {
  it('replays a batch spooled as record objects as the lines those records encode to', async () => {
    const statements = sealedRecords('s_old', 3);
    const sessions = [toSessionOpened(observedSession('s_old'), { tls: true }, Date.now())];
    // A segment written when batches held record objects rather than lines.
    const line = JSON.stringify({ batch: 'old-1', rows: { statements, sessions } });
    await writeFile(path.join(dir, 'segment-00000001.jsonl'), `${line}\n`);
    const spool = openSpool({ dir });
    try {
      expect(spool.pending).toBe(1);
      expect(spool.peek()).toEqual({ id: 'old-1', rows: rowsOf({ statements, sessions }) });
    } finally {
      spool.close();
    }
  });

  it('keeps lines as lines through append and peek', () => {
    const rows = rowsOf({ statements: sealedRecords('s_new', 2) });
    const spool = openSpool({ dir });
    try {
      spool.append({ id: 'new-1', rows });
      expect(spool.peek()).toEqual({ id: 'new-1', rows });
    } finally {
      spool.close();
    }
  });
});
