// The approval-uses ledger kept in a file: counts survive a reopen, windows are counted apart and
// forgotten a day after they end, and a damaged, locked or unusable file counts nothing (every
// approved statement is refused) without throwing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.js';
import {
  type AppendHandle,
  type ApprovalLedger,
  type ApprovalRef,
  KEEP_PAST_WINDOW_MS,
  localApprovalUses,
  type OpenLedgerOptions,
  openApprovalLedger,
} from './approval-uses.js';

const A: ApprovalRef = {
  id: 'apr-aaaa',
  notBefore: '2026-11-24T10:00:00Z',
  expiresAt: '2026-11-24T11:00:00Z',
};
const A_LATER: ApprovalRef = {
  ...A,
  notBefore: '2026-11-25T10:00:00Z',
  expiresAt: '2026-11-25T11:00:00Z',
};
const B: ApprovalRef = { ...A, id: 'apr-bbbb' };
const END_OF_A = Date.parse(A.expiresAt!);

let dir: string;
let file: string;
let lines: Record<string, unknown>[];
let clock: number;
const opened: ApprovalLedger[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pgward-uses-'));
  file = path.join(dir, 'state', 'approval-uses.jsonl');
  lines = [];
  clock = Date.parse('2026-11-24T10:30:00Z');
});

afterEach(async () => {
  for (const l of opened.splice(0)) await l.close();
  await rm(dir, { recursive: true, force: true });
});

/** The ledger in `file` on the test clock, logging into `lines`; closed after the test. */
async function ledger(
  options: Pick<OpenLedgerOptions, 'openAppend' | 'compactAfterLines'> = {},
): Promise<ApprovalLedger> {
  const l = await openApprovalLedger({
    file,
    now: () => clock,
    log: createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line)) }),
    ...options,
  });
  opened.push(l);
  return l;
}

async function closeAll(): Promise<void> {
  for (const l of opened.splice(0)) await l.close();
}

/** The ledger counts nothing, and the log says why (an error naming `why`). */
function expectUnavailable(l: ApprovalLedger, why: RegExp | string): void {
  expect(l.spend([A], 5)).toEqual({ ok: false, id: A.id, why: 'uncounted' });
  expect(lines).toContainEqual(
    expect.objectContaining({
      level: 'error',
      code: 'PGW_APPROVAL_LEDGER_UNAVAILABLE',
      msg: typeof why === 'string' ? expect.stringContaining(why) : expect.stringMatching(why),
    }),
  );
}

const fileLines = async () =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('approval uses ledger in a file', () => {
  it('answers a run only once it is written, and keeps the counts across a reopen', async () => {
    const first = await ledger();
    const spent = first.spend([A], 2);
    expect(spent).toBeInstanceOf(Promise);
    expect(await spent).toEqual({ ok: true });
    expect(await fileLines()).toEqual([
      { id: A.id, not_before: A.notBefore, expires_at: A.expiresAt, runs: 1 },
    ]);
    expect(await first.spend([A], 2)).toEqual({ ok: true });
    expect(await first.spend([A], 2)).toEqual({ ok: false, id: A.id, why: 'used' });
    await closeAll();

    // A restarted gateway: the approval has had its two runs.
    const second = await ledger();
    expect(second.count(A)).toBe(2);
    expect(await second.spend([A], 2)).toEqual({ ok: false, id: A.id, why: 'used' });
    // The same statement approved again (same id, new window) starts from zero.
    expect(second.count(A_LATER)).toBe(0);
    expect(await second.spend([A_LATER], 2)).toEqual({ ok: true });
    // Reopening compacts the file to one line per approval and window.
    await closeAll();
    await ledger();
    expect(await fileLines()).toEqual([
      { id: A.id, not_before: A.notBefore, expires_at: A.expiresAt, runs: 2 },
      { id: A.id, not_before: A_LATER.notBefore, expires_at: A_LATER.expiresAt, runs: 1 },
    ]);
  });

  it('forgets the runs of a window a day after it ends, never before', async () => {
    const l = await ledger();
    expect(await l.spend([A], 1)).toEqual({ ok: true });
    expect(await l.spend([{ ...B, notBefore: null, expiresAt: null }], 1)).toEqual({ ok: true });
    await closeAll();

    clock = END_OF_A + KEEP_PAST_WINDOW_MS - 1;
    const kept = await ledger();
    expect(kept.count(A)).toBe(1);
    await closeAll();

    clock = END_OF_A + KEEP_PAST_WINDOW_MS;
    const later = await ledger();
    expect(later.count(A)).toBe(0);
    // Without a window, runs are never forgotten.
    expect(later.count({ ...B, notBefore: null, expiresAt: null })).toBe(1);
    expect((await fileLines()).map((r) => r.id)).toEqual([B.id]);
  });

  it('drops a last line cut short by a crash, and says so', async () => {
    await mkdir(path.dirname(file), { recursive: true });
    const whole = JSON.stringify({
      id: A.id,
      not_before: A.notBefore,
      expires_at: A.expiresAt,
      runs: 3,
    });
    await writeFile(file, `${whole}\n{"id":"apr-bbbb","not_be`);
    const l = await ledger();
    expect(l.count(A)).toBe(3);
    expect(l.count(B)).toBe(0);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/cut short/) }),
    );
    expect(await l.spend([B], 1)).toEqual({ ok: true });
  });

  it('refuses every run, and leaves the file alone, when a line in it is not a ledger line', async () => {
    await mkdir(path.dirname(file), { recursive: true });
    const damaged = `{"id":"apr-aaaa","not_before":null,"expires_at":null,"runs":1}\n{"id":"apr-aaaa","runs":-4}\n{"id":"apr-bbbb","not_before":null,"expires_at":null,"runs":1}\n`;
    await writeFile(file, damaged);
    expectUnavailable(await ledger(), /line 2 is not a ledger line; fix or remove the file/);
    expect(await readFile(file, 'utf8')).toBe(damaged);
  });

  it('is held by one process at a time; a lock left by a process that is gone is taken over', async () => {
    const held = await ledger();
    const second = await ledger();
    expect(second.spend([A], 5)).toEqual({ ok: false, id: A.id, why: 'uncounted' });
    expect(lines).toContainEqual(
      expect.objectContaining({
        code: 'PGW_APPROVAL_LEDGER_UNAVAILABLE',
        msg: expect.stringContaining(`in use by process ${process.pid}`),
      }),
    );
    expect(await held.spend([A], 5)).toEqual({ ok: true });
    await closeAll();
    expect(existsSync(`${file}.lock`)).toBe(false);

    // A gateway killed while holding it leaves its lock behind, naming a process that is gone.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    await writeFile(`${file}.lock`, `${gone.stdout.toString()}\n`);
    const next = await ledger();
    expect(next.count(A)).toBe(1);
    expect(await next.spend([A], 5)).toEqual({ ok: true });
  });

  it('counts nothing when the file cannot be created', async () => {
    await mkdir(file, { recursive: true });
    expectUnavailable(await ledger(), file);
  });

  it('refuses a run whose count cannot be written, and counts it all the same', async () => {
    let failing = true;
    const l = await ledger({
      // A disk that refuses writes until it is fixed.
      openAppend: async (target) => {
        const real = await open(target, 'a');
        return {
          write: (async (data: string) => {
            if (failing)
              throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
            return real.write(data);
          }) as AppendHandle['write'],
          datasync: () => real.datasync(),
          close: () => real.close(),
        };
      },
    });
    expect(await l.spend([A], 2)).toEqual({ ok: false, id: A.id, why: 'uncounted' });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        code: 'PGW_APPROVAL_LEDGER_WRITE',
        error: 'no space left on device',
      }),
    );
    // SECURITY: the refused run still counts (over-counting refuses; under-counting would allow).
    expect(l.count(A)).toBe(1);
    failing = false;
    expect(await l.spend([A], 2)).toEqual({ ok: true });
    expect(await l.spend([A], 2)).toEqual({ ok: false, id: A.id, why: 'used' });
    expect((await fileLines()).at(-1)).toMatchObject({ id: A.id, runs: 2 });
  });

  it('compacts its file again while open, once enough lines have been appended', async () => {
    const l = await ledger({ compactAfterLines: 4 });
    for (let i = 0; i < 3; i++) expect(await l.spend([A], 100)).toEqual({ ok: true });
    expect(await fileLines()).toHaveLength(3);
    // The fourth line is written, answered, then the file is rewritten with one line per approval.
    expect(await l.spend([A, B], 100)).toEqual({ ok: true });
    await expect.poll(async () => (await fileLines()).length).toBe(2);
    expect(await fileLines()).toEqual([
      { id: A.id, not_before: A.notBefore, expires_at: A.expiresAt, runs: 4 },
      { id: B.id, not_before: B.notBefore, expires_at: B.expiresAt, runs: 1 },
    ]);
    // Later runs go to the new file, and a restarted gateway reads every count.
    expect(await l.spend([B], 100)).toEqual({ ok: true });
    await closeAll();
    const again = await ledger();
    expect(again.count(A)).toBe(4);
    expect(again.count(B)).toBe(2);
  });

  it('counts nothing more once a compaction while open fails', async () => {
    let opens = 0;
    const l = await ledger({
      compactAfterLines: 2,
      // The second open (after the rename) fails: the old handle writes to a file nobody reads.
      openAppend: async (target) => {
        if (++opens > 1) throw Object.assign(new Error('too many open files'), { code: 'EMFILE' });
        return open(target, 'a');
      },
    });
    // Three runs at once: the third is queued behind the compaction the second one starts.
    const runs = await Promise.all([l.spend([A], 100), l.spend([A], 100), l.spend([A], 100)]);
    expect(runs).toEqual([{ ok: true }, { ok: true }, { ok: false, id: A.id, why: 'uncounted' }]);
    // SECURITY: every later run is refused until a restart reopens the file.
    expect(await l.spend([A], 100)).toEqual({ ok: false, id: A.id, why: 'uncounted' });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        code: 'PGW_APPROVAL_LEDGER_UNAVAILABLE',
        msg: expect.stringContaining('compaction failed: too many open files'),
      }),
    );
    // The compacted file holds the counts in memory, the refused third run included (over-counting
    // refuses; under-counting would allow).
    await closeAll();
    expect((await ledger()).count(A)).toBe(3);
  });

  it('refuses a run after it is closed', async () => {
    const l = await ledger();
    await l.close();
    expect(l.spend([A], 5)).toEqual({ ok: false, id: A.id, why: 'uncounted' });
  });
});

describe('approval uses ledger in memory', () => {
  it('never forgets a live window to make room: past its bound a new approval is refused', () => {
    let now = Date.parse('2026-11-24T10:30:00Z');
    const log = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line)) });
    const l = localApprovalUses({ maxTracked: 2, now: () => now, log });
    expect(l.spend([A], 1)).toEqual({ ok: true });
    expect(l.spend([A_LATER], 1)).toEqual({ ok: true });
    expect(l.spend([B], 1)).toEqual({ ok: false, id: B.id, why: 'uncounted' });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        code: 'PGW_APPROVAL_LEDGER_UNAVAILABLE',
        msg: expect.stringMatching(/ledger full/),
        approval_id: B.id,
      }),
    );
    expect(l.count(A)).toBe(1);
    // Once A's window is over (and a day more), its room is free again.
    now = END_OF_A + KEEP_PAST_WINDOW_MS;
    expect(l.spend([B], 1)).toEqual({ ok: true });
    expect(l.count(A)).toBe(0);
    expect(l.size).toBe(2);
  });

  it('never forgets a window whose end it cannot read', () => {
    const l = localApprovalUses({ now: () => Number.MAX_SAFE_INTEGER });
    const odd = { ...A, expiresAt: 'when the cows come home' };
    expect(l.spend([odd], 1)).toEqual({ ok: true });
    expect(l.spend([odd], 1)).toEqual({ ok: false, id: A.id, why: 'used' });
  });
});
