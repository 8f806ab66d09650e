// Counts the runs of granted approvals against approvals.max_uses. One ledger serves the whole gateway:
// in one process it is local; under node:cluster the primary holds it and workers ask it over IPC, so
// an approval allowed once runs once whichever worker the client reached. Runs are counted per
// approval id and window: the same statement approved again later keeps its id but gets a new window,
// and is counted afresh. With a file (openApprovalLedger) the counts survive a restart.

import { mkdirSync, readFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';
import { toError } from '../../lib/errors.js';
import { writeFileAtomic } from '../../lib/files.js';
import type { Logger } from '../../lib/log.js';
import { releasePidLock, takePidLock } from '../../lib/pid-lock.js';

/** One approval as a decision names it: its id and, when the policy gives it, its window. */
export interface ApprovalRef {
  readonly id: string;
  readonly notBefore: string | null;
  readonly expiresAt: string | null;
}

/**
 * Counted: one run of each approval was added. Otherwise nothing was counted: `id` has already run its
 * `max` times, or (uncounted) the ledger could not count it.
 */
export type SpendResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly id: string; readonly why: 'used' | 'uncounted' };

const COUNTED: SpendResult = { ok: true };

export interface ApprovalUses {
  /** Atomically: if every approval has run fewer than `max` times, counts one run of each. */
  spend(approvals: readonly ApprovalRef[], max: number): SpendResult | Promise<SpendResult>;
}

/** The ledger in the process that holds the counts. */
export interface ApprovalLedger extends ApprovalUses {
  /** Runs counted for the approval (0 when none, or forgotten after its window). */
  count(approval: ApprovalRef): number;
  /** Approvals whose runs are held. */
  readonly size: number;
  /** Waits for pending writes and releases the file. */
  close(): Promise<void>;
}

export interface LedgerOptions {
  /** Epoch milliseconds. */
  readonly now?: () => number;
  /**
   * Approvals held at most. Runs are forgotten only once their window has passed; past this many live
   * approvals a new one is not counted, and so not allowed to run (fail closed).
   */
  readonly maxTracked?: number;
  /** Told when an approval is refused because the ledger is full. */
  readonly log?: Logger;
}

/** A window's runs are kept this long past its end, for a clock stepped back. */
export const KEEP_PAST_WINDOW_MS = 24 * 3_600_000;
/** Expired windows are looked for at most this often. */
const PRUNE_EVERY_MS = 60_000;
const DEFAULT_MAX_TRACKED = 100_000;

interface Entry {
  readonly ref: ApprovalRef;
  runs: number;
  /** Epoch ms from which the runs may be forgotten (Infinity without a window). */
  readonly forgetAt: number;
}

const keyOf = (a: ApprovalRef): string =>
  `${a.id}\u0000${a.notBefore ?? ''}\u0000${a.expiresAt ?? ''}`;

function forgetAtOf(a: ApprovalRef): number {
  if (a.expiresAt === null) return Number.POSITIVE_INFINITY;
  const end = Date.parse(a.expiresAt);
  // SECURITY: an end that does not parse is never reached: its runs are never forgotten.
  return Number.isNaN(end) ? Number.POSITIVE_INFINITY : end + KEEP_PAST_WINDOW_MS;
}

/** Where a ledger keeps its counts: one line per counted run, the approval's new total. */
interface Store {
  append(lines: string): Promise<void>;
  close(): Promise<void>;
}

/** The counts, in memory; with a store, every counted run is written before it is answered. */
class Ledger implements ApprovalLedger {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #maxTracked: number;
  readonly #log: Logger | null;
  #prunedAt = Number.NEGATIVE_INFINITY;
  /** Why nothing can be counted (the file could not be read or locked); null when usable. */
  #broken: string | null = null;
  #store: Store | null = null;
  /** Releases what the ledger holds besides its store (the lock of its file). */
  #release: (() => void) | null = null;

  constructor(options: LedgerOptions) {
    this.#now = options.now ?? Date.now;
    this.#maxTracked = options.maxTracked ?? DEFAULT_MAX_TRACKED;
    this.#log = options.log ?? null;
  }

  get size(): number {
    return this.#entries.size;
  }

  count(approval: ApprovalRef): number {
    return this.#entries.get(keyOf(approval))?.runs ?? 0;
  }

  spend(requested: readonly ApprovalRef[], max: number): SpendResult | Promise<SpendResult> {
    const first = requested[0]?.id ?? '';
    if (this.#broken !== null) return { ok: false, id: first, why: 'uncounted' };
    // One run of a request counts once per approval, however many of its statements it allowed.
    const approvals = [...new Map(requested.map((a) => [keyOf(a), a])).values()];
    const spent = approvals.find((a) => this.count(a) >= max);
    if (spent !== undefined) return { ok: false, id: spent.id, why: 'used' };
    const fresh = approvals.filter((a) => !this.#entries.has(keyOf(a))).length;
    if (fresh > 0 && this.#entries.size + fresh > this.#maxTracked) {
      this.#prune(true);
      if (this.#entries.size + fresh > this.#maxTracked) {
        this.#log?.error(
          'approval uses ledger full: a new approval is refused until a window ends',
          {
            code: 'PGW_APPROVAL_LEDGER_UNAVAILABLE',
            approvals: this.#entries.size,
            approval_id: first,
          },
        );
        return { ok: false, id: first, why: 'uncounted' };
      }
    } else {
      this.#prune(false);
    }
    const lines: string[] = [];
    for (const a of approvals) {
      const entry = this.#hold(a, this.count(a) + 1);
      lines.push(lineOf(entry));
    }
    const store = this.#store;
    if (store === null) return COUNTED;
    // SECURITY: the run is counted in memory before it is written, so a failed write over-counts and
    // refuses; the statement runs only once its count is on disk.
    return store.append(lines.join('')).then(
      () => COUNTED,
      () => ({ ok: false, id: first, why: 'uncounted' }) as const,
    );
  }

  /** Sets the runs of `a` (the larger count wins: the file holds each approval's totals in order). */
  #hold(a: ApprovalRef, runs: number): Entry {
    const key = keyOf(a);
    const held = this.#entries.get(key);
    if (held !== undefined) {
      held.runs = Math.max(held.runs, runs);
      return held;
    }
    const entry: Entry = { ref: a, runs, forgetAt: forgetAtOf(a) };
    this.#entries.set(key, entry);
    return entry;
  }

  #prune(force: boolean): void {
    const now = this.#now();
    if (!force && now - this.#prunedAt < PRUNE_EVERY_MS) return;
    this.#prunedAt = now;
    for (const [key, entry] of this.#entries) if (entry.forgetAt <= now) this.#entries.delete(key);
  }

  /**
   * Loads the lines of a ledger file: the problem when one is not a ledger line; torn when only the
   * last line was cut short (a write a crash interrupted, whose run was never answered).
   */
  load(text: string): { readonly problem: string } | { readonly torn: boolean } {
    const lines = text.split('\n');
    const last = lines.pop() ?? '';
    for (const [i, line] of lines.entries()) {
      if (line.trim() === '') continue;
      const parsed = parseLine(line);
      if (parsed === null) return { problem: `line ${i + 1} is not a ledger line` };
      this.#hold(parsed.ref, parsed.runs);
    }
    if (last.trim() === '') return { torn: false };
    const parsed = parseLine(last);
    if (parsed === null) return { torn: true };
    // Complete but for its newline: the run was written, and may have been answered.
    this.#hold(parsed.ref, parsed.runs);
    return { torn: false };
  }

  /** The live entries as ledger lines (expired windows dropped). */
  compacted(): string {
    this.#prune(true);
    return [...this.#entries.values()].map(lineOf).join('');
  }

  attach(store: Store): void {
    this.#store = store;
  }

  fail(why: string): void {
    this.#broken = why;
  }

  releaseWith(release: () => void): void {
    this.#release = release;
  }

  async close(): Promise<void> {
    const store = this.#store;
    const release = this.#release;
    this.#store = null;
    this.#release = null;
    this.#broken ??= 'the ledger is closed';
    await store?.close();
    release?.();
  }
}

function lineOf(e: Entry): string {
  return `${JSON.stringify({
    id: e.ref.id,
    not_before: e.ref.notBefore,
    expires_at: e.ref.expiresAt,
    runs: e.runs,
  })}\n`;
}

function parseLine(line: string): { ref: ApprovalRef; runs: number } | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const { id, not_before, expires_at, runs } = v as Record<string, unknown>;
  const optional = (x: unknown) => x === null || typeof x === 'string';
  if (typeof id !== 'string' || id === '' || !optional(not_before) || !optional(expires_at))
    return null;
  if (typeof runs !== 'number' || !Number.isSafeInteger(runs) || runs < 1) return null;
  return {
    ref: { id, notBefore: not_before as string | null, expiresAt: expires_at as string | null },
    runs,
  };
}

/** A ledger in memory: counts live as long as the process. */
export function localApprovalUses(options: LedgerOptions = {}): ApprovalLedger {
  return new Ledger(options);
}

export interface OpenLedgerOptions extends LedgerOptions {
  /** The ledger file; `<file>.lock` keeps a second gateway process from using it at the same time. */
  readonly file: string;
  readonly log: Logger;
  /** Opens the file for appending (tests put a failing disk behind it); default fs.promises.open. */
  readonly openAppend?: (file: string) => Promise<AppendHandle>;
  /**
   * Lines appended after which the file is compacted again while open (at least twice the approvals
   * held, so a file of many live approvals is not rewritten on every run). Default 10,000.
   */
  readonly compactAfterLines?: number;
}

const DEFAULT_COMPACT_AFTER_LINES = 10_000;

/** What the ledger needs of an open file. */
export type AppendHandle = Pick<FileHandle, 'write' | 'datasync' | 'close'>;

const openForAppend = (file: string): Promise<AppendHandle> => open(file, 'a', 0o600);

/**
 * The ledger kept in `file`, counts loaded. Never throws: a file that cannot be read, parsed, written
 * or locked leaves a ledger that counts nothing, so every run of an approval under max_uses is
 * refused (fail closed) while other statements are served; the reason is logged as an error.
 */
export async function openApprovalLedger(options: OpenLedgerOptions): Promise<ApprovalLedger> {
  const { file, log } = options;
  const ledger = new Ledger(options);
  const broken = (why: string): ApprovalLedger => {
    const message = `approval uses ledger ${file}: ${why}; approvals are refused while approvals.max_uses is set`;
    log.error(message, { code: 'PGW_APPROVAL_LEDGER_UNAVAILABLE', file });
    ledger.fail(message);
    return ledger;
  };
  const lockFile = `${file}.lock`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const holder = takePidLock(lockFile);
    if (holder !== null) return broken(`in use by process ${holder} (${lockFile})`);
    ledger.releaseWith(() => releasePidLock(lockFile));
  } catch (err) {
    return broken(`cannot be locked: ${toError(err).message}`);
  }
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      return broken(`cannot be read: ${toError(err).message}`);
  }
  // SECURITY: a damaged file is left as it is for an operator to look at, and nothing is counted.
  const loaded = ledger.load(text);
  if ('problem' in loaded) return broken(`${loaded.problem}; fix or remove the file`);
  if (loaded.torn) log.warn('approval uses ledger: dropped a last line cut short', { file });
  const openAppend = options.openAppend ?? openForAppend;
  const compactAfter = options.compactAfterLines ?? DEFAULT_COMPACT_AFTER_LINES;
  /** Rewrites the file with one line per live approval and opens it for appending. */
  const compact = async (): Promise<AppendHandle> => {
    await writeFileAtomic(file, ledger.compacted(), { durable: true, mode: 0o600 });
    return openAppend(file);
  };
  try {
    let handle = await compact();
    let appended = 0;
    /** Set when a compaction failed: the handle may write to a file that no restart reads. */
    let lost = false;
    let tail: Promise<void> = Promise.resolve();
    /** After a run's lines are on disk: a long file is compacted before the next lines are written. */
    const compactIfLong = async (): Promise<void> => {
      if (appended < Math.max(compactAfter, 2 * ledger.size)) return;
      appended = 0;
      const before = handle;
      try {
        handle = await compact();
      } catch (err) {
        // SECURITY: once the rename has happened, the old handle writes to a file no restart reads:
        // nothing more is counted until a restart reopens the file.
        lost = true;
        broken(`compaction failed: ${toError(err).message}`);
        return;
      }
      await before.close().catch(() => undefined);
    };
    ledger.attach({
      append(lines) {
        const written = tail.then(async () => {
          if (lost) throw new Error('the ledger file was lost in a failed compaction');
          await handle.write(lines);
          await handle.datasync();
          for (let i = lines.indexOf('\n'); i >= 0; i = lines.indexOf('\n', i + 1)) appended++;
        });
        tail = written
          .catch((err) => {
            log.error('approval uses ledger: a count was not written; that approval is refused', {
              code: 'PGW_APPROVAL_LEDGER_WRITE',
              file,
              error: toError(err).message,
            });
          })
          .then(compactIfLong);
        return written;
      },
      async close() {
        await tail;
        await handle.close();
      },
    });
  } catch (err) {
    return broken(`cannot be written: ${toError(err).message}`);
  }
  log.info('approval uses ledger open', { file, approvals: ledger.size });
  return ledger;
}

/** A worker's request to the primary's ledger, and its answer. */
export interface SpendRequest {
  readonly type: 'approval-spend';
  readonly id: number;
  readonly approvals: readonly ApprovalRef[];
  readonly max: number;
}
export interface SpendAnswer {
  readonly type: 'approval-spent';
  readonly id: number;
  readonly spent: SpendResult;
}

/**
 * A worker's ledger: every spend asks the primary. SECURITY: an answer that does not come within
 * `timeoutMs` (the primary is gone or stuck) counts as spent, so the statement is refused.
 */
export function remoteApprovalUses(
  send: (request: SpendRequest) => void,
  timeoutMs: number,
): ApprovalUses & { answered(answer: SpendAnswer): void } {
  const waiting = new Map<
    number,
    { resolve: (spent: SpendResult) => void; timer: NodeJS.Timeout }
  >();
  let next = 0;
  return {
    spend(approvals, max) {
      const id = ++next;
      return new Promise<SpendResult>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve({ ok: false, id: approvals[0]?.id ?? '', why: 'uncounted' });
        }, timeoutMs);
        waiting.set(id, { resolve, timer });
        send({ type: 'approval-spend', id, approvals, max });
      });
    },
    answered(answer) {
      const w = waiting.get(answer.id);
      if (w === undefined) return;
      waiting.delete(answer.id);
      clearTimeout(w.timer);
      w.resolve(answer.spent);
    },
  };
}
