// The audit writer: a bounded in-memory queue cut into batches by size and time and inserted in order.
// When the store fails, batches go to the spool (fsync'd) and are replayed oldest first once it answers
// again (probed with backoff); while anything is spooled, newer batches are spooled behind it, so order
// holds. Every insert carries its batch id as the deduplication token, so a replay never duplicates.

import { randomBytes } from 'node:crypto';
import type { AuditEntry } from './record.js';
import { RowQueue } from './row-queue.js';
import type { AuditSink } from './sink.js';
import { openSpool, type SpooledBatch } from './spool.js';

/** The subset of lib/log's Logger the writer uses. */
export interface WriterLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface AuditWriterOptions {
  readonly sink: Pick<AuditSink, 'insert'>;
  readonly spoolDir: string;
  readonly batchSize: number;
  readonly flushMs: number;
  readonly queueMax: number;
  readonly spoolMaxBytes: number;
  /** Past spoolMaxBytes: refuse statements (accepting() false) instead of dropping records. */
  readonly failClosed: boolean;
  readonly log: WriterLog;
  /** Epoch milliseconds, stamped into batch ids. */
  readonly now?: () => number;
  /** Spool segment size before a new file is started (default 64 MiB). */
  readonly spoolSegmentBytes?: number;
  /** First and longest wait between probes of a failing store. */
  readonly backoffMs?: { readonly min: number; readonly max: number };
}

export interface AuditWriter {
  /** Queues one encoded record; never blocks on the store. */
  write(entry: AuditEntry): void;
  /** False while fail_closed and the spool is past its limit: the gateway must refuse statements. */
  accepting(): boolean;
  readonly queueDepth: number;
  readonly spoolBytes: number;
  /** Batches waiting in the spool. */
  readonly spooledBatches: number;
  /** Records dropped: the spool was full in fail-open mode, or written after close(). */
  readonly droppedRecords: number;
  /** Resolves when every record written so far is in the store or the spool. */
  flush(): Promise<void>;
  /**
   * Flushes (for at most `deadlineMs`, then spools the rest), stops probing and releases the spool.
   * Close the gateway first: later writes are dropped.
   */
  close(deadlineMs?: number): Promise<void>;
}

interface Batch extends SpooledBatch {
  /** Also in the spool (spilled while in flight): acknowledge it there once stored. */
  spooled: boolean;
}

export function createAuditWriter(options: AuditWriterOptions): AuditWriter {
  const { sink, log, batchSize, queueMax } = options;
  const now = options.now ?? Date.now;
  /** Monotonic, for backoff only: an injected wall clock may stand still in tests. */
  const clock = () => performance.now();
  const backoff = options.backoffMs ?? { min: 100, max: 30_000 };
  const spool = openSpool({
    dir: options.spoolDir,
    ...(options.spoolSegmentBytes !== undefined ? { segmentBytes: options.spoolSegmentBytes } : {}),
  });
  const prefix = `${now().toString(36)}-${randomBytes(6).toString('hex')}`;
  let counter = 0;
  const queue = new RowQueue();
  let inflight: Batch | null = null;
  let pumping = false;
  /** flush() was called: send partial batches until the queue is empty. */
  let flushDue = false;
  /** Records written and records cut into batches so far; the flush timer makes those before it due. */
  let written = 0;
  let cutTotal = 0;
  let dueUpTo = 0;
  let closed = false;
  let dropped = 0;
  let spoolBroken = false;
  let wait = 0;
  let retryAt = 0;
  let flushTimer: NodeJS.Timeout | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let idleWaiters: (() => void)[] = [];

  const cut = (): Batch => {
    const rows = queue.take(batchSize);
    cutTotal += rows.rows;
    return { id: `${prefix}-${++counter}`, rows, spooled: false };
  };

  const toSpool = (batch: Batch): void => {
    if (batch.spooled) return;
    if (!options.failClosed && spool.bytes >= options.spoolMaxBytes) {
      const n = batch.rows.rows;
      if (dropped === 0)
        log.error('audit spool full: dropping records (fail open)', { records: n });
      dropped += n;
      return;
    }
    try {
      spool.append(batch);
      batch.spooled = true;
      spoolBroken = false;
    } catch (err) {
      // A spool that cannot be written (disk full, I/O error) loses the batch: counted, logged, and
      // in fail-closed mode statements are refused until an append succeeds again.
      spoolBroken = true;
      dropped += batch.rows.rows;
      log.error('audit spool write failed: records dropped', { err, batch: batch.id });
    }
  };

  const spillQueue = (all: boolean): void => {
    while (queue.length >= batchSize || (all && queue.length > 0)) toSpool(cut());
  };

  const partialDue = (): boolean => flushDue || cutTotal < dueUpTo;

  const settleIdle = (): void => {
    if (queue.length > 0 || inflight !== null) return;
    flushDue = false;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  const scheduleRetry = (): void => {
    if (retryTimer !== null || closed) return;
    retryTimer = setTimeout(
      () => {
        retryTimer = null;
        kick();
      },
      Math.max(0, retryAt - clock()),
    );
    retryTimer.unref();
  };

  const failed = (err: unknown, batch: Batch): void => {
    wait = wait === 0 ? backoff.min : Math.min(backoff.max, wait * 2);
    retryAt = clock() + wait;
    log.warn('audit store insert failed; spooling', { err, batch: batch.id, retryInMs: wait });
  };

  const send = async (batch: Batch): Promise<void> => {
    inflight = batch;
    try {
      await sink.insert(batch.id, batch.rows);
      if (batch.spooled && !closed) spool.ack(batch.id);
      if (wait !== 0) log.info('audit store recovered', { spooled: spool.pending });
      wait = 0;
    } catch (err) {
      failed(err, batch);
      toSpool(batch);
    } finally {
      inflight = null;
    }
  };

  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      for (;;) {
        const backingOff = clock() < retryAt;
        if (spool.pending > 0 || backingOff) {
          // Anything newer waits behind the spool, in it, so replay keeps the order.
          spillQueue(partialDue() || closed);
          if (closed || backingOff) {
            scheduleRetry();
            if (queue.length > 0) armFlush();
            break;
          }
          const head = spool.peek();
          if (head === null) break;
          await send({ ...head, spooled: true });
          continue;
        }
        if (queue.length === 0) break;
        // A partial batch goes only when some of it has waited flush_ms (or flush() asked): under load
        // batches stay full, so the store makes few large parts instead of many small ones.
        if (queue.length < batchSize && !partialDue() && !closed) {
          armFlush();
          break;
        }
        await send(cut());
      }
    } finally {
      pumping = false;
      settleIdle();
    }
  };

  function kick(): void {
    pump().catch((err: unknown) => log.error('audit writer fault', { err }));
  }

  function armFlush(): void {
    if (flushTimer !== null) return;
    flushTimer = setTimeout(() => {
      flushTimer = null;
      dueUpTo = written;
      kick();
    }, options.flushMs);
    flushTimer.unref();
  }

  // Nothing is lost across restarts: a previous process's spool is replayed before anything newer.
  if (spool.pending > 0) {
    log.info('audit spool has batches to replay', { batches: spool.pending });
    kick();
  }

  return {
    write(entry) {
      if (closed) {
        // The owner closes the writer after the gateway: a record now has nowhere to go.
        dropped += 1;
        log.error('audit record written after the writer closed; dropped', { table: entry.table });
        return;
      }
      queue.push(entry);
      written += 1;
      if (queue.length >= queueMax) {
        // Memory stays bounded: the in-flight batch first (it is older), then the queue, to the spool.
        if (inflight !== null) toSpool(inflight);
        spillQueue(true);
      }
      if (queue.length >= batchSize || spool.pending > 0) kick();
      else armFlush();
    },
    accepting: () => !(options.failClosed && (spoolBroken || spool.bytes >= options.spoolMaxBytes)),
    get queueDepth() {
      return queue.length;
    },
    get spoolBytes() {
      return spool.bytes;
    },
    get spooledBatches() {
      return spool.pending;
    },
    get droppedRecords() {
      return dropped;
    },
    flush,
    async close(deadlineMs = 10_000) {
      if (closed) return;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), deadlineMs)));
      const result = await Promise.race([flush(), late]);
      clearTimeout(timer);
      closed = true;
      if (result === 'late') {
        // A store that hangs must not hold shutdown: what is still in memory goes to the spool and is
        // replayed (deduplicated) at the next start.
        log.warn('audit store did not answer before shutdown; spooling the rest');
        if (inflight !== null) toSpool(inflight);
        spillQueue(true);
      }
      if (flushTimer !== null) clearTimeout(flushTimer);
      if (retryTimer !== null) clearTimeout(retryTimer);
      spool.close();
    },
  };

  function flush(): Promise<void> {
    flushDue = true;
    const done = new Promise<void>((resolve) => idleWaiters.push(resolve));
    kick();
    settleIdleSoon();
    return done;
  }

  /** flush() with nothing queued resolves once the pump (if any) has settled. */
  function settleIdleSoon(): void {
    if (!pumping) settleIdle();
  }
}
