// Verifies one session's hash chain and names each problem by seq: a record whose fields no longer match
// its hash (changed), a seq absent from the sequence (missing), records out of seq order (reordered), a
// seq stored twice (duplicate), a record rewritten together with its hash (relinked: its prev_hash is not
// the hash before it), a record of another session (foreign).

import { chainStart, recordHash } from './chain.js';
import type { SqlRunner } from './migrate.js';
import { MAX_PAGE, sessionEvents, sessionSpan, sessionStatements } from './queries.js';
import type { StatementRecord } from './record.js';

export type ChainProblemKind =
  | 'changed'
  | 'missing'
  | 'reordered'
  | 'duplicate'
  | 'relinked'
  | 'foreign';

export interface ChainProblem {
  readonly kind: ChainProblemKind;
  readonly seq: number;
  readonly detail: string;
}

export interface ChainReport {
  readonly ok: boolean;
  readonly sessionId: string | null;
  readonly records: number;
  readonly problems: readonly ChainProblem[];
}

/** The session's closed record: the chain's length and head when it ended. */
export interface ChainAnchor {
  readonly statement_count: number;
  readonly last_hash: string | null;
}

/** Missing seqs are reported one by one up to this many per gap; then the gap as a whole. */
const MAX_MISSING_LISTED = 100;

/**
 * Checks `records` (one session's, in the order they were read) against the chain rules. With the
 * `anchor` (the session's closed record) a removed tail is detected too.
 */
export function verifyChain(
  records: readonly StatementRecord[],
  anchor: ChainAnchor | null = null,
): ChainReport {
  const reordered: ChainProblem[] = [];
  records.forEach((r, i) => {
    const before = records[i - 1];
    if (before !== undefined && r.seq < before.seq)
      reordered.push({
        kind: 'reordered',
        seq: r.seq,
        detail: `read at position ${i + 1}, after seq ${before.seq}`,
      });
  });
  const verifier = createChainVerifier(records[0]?.session_id ?? null);
  for (const r of [...records].sort((a, b) => a.seq - b.seq)) verifier.push(r);
  const report = verifier.finish(anchor);
  const problems = [...reordered, ...report.problems];
  return { ...report, ok: problems.length === 0, problems };
}

/** Streaming verification of records arriving in seq order (as the store returns them). */
export function createChainVerifier(sessionId: string | null) {
  const problems: ChainProblem[] = [];
  let expected = 1;
  let prev: StatementRecord | null = null;
  let count = 0;
  return {
    push(r: StatementRecord): void {
      count += 1;
      if (r.session_id !== sessionId)
        problems.push({ kind: 'foreign', seq: r.seq, detail: `belongs to ${r.session_id}` });
      if (recordHash(r) !== r.hash)
        problems.push({ kind: 'changed', seq: r.seq, detail: 'fields do not match its hash' });
      if (prev !== null && r.seq === prev.seq) {
        problems.push({ kind: 'duplicate', seq: r.seq, detail: 'seq stored more than once' });
        return;
      }
      if (r.seq > expected) {
        reportMissing(problems, expected, r.seq - 1);
      } else {
        const want = prev === null ? (sessionId === null ? '' : chainStart(sessionId)) : prev.hash;
        if (r.prev_hash !== want)
          problems.push({
            kind: 'relinked',
            seq: r.seq,
            detail:
              r.seq === 1
                ? 'prev_hash is not sha256(session_id)'
                : `prev_hash is not the hash of seq ${r.seq - 1}: one of the two was rewritten`,
          });
      }
      expected = r.seq + 1;
      prev = r;
    },
    finish(anchor: ChainAnchor | null): ChainReport {
      if (anchor !== null) {
        if (anchor.statement_count >= expected) {
          reportMissing(problems, expected, anchor.statement_count);
        } else if (prev !== null && anchor.statement_count === prev.seq) {
          if (anchor.last_hash !== prev.hash)
            problems.push({
              kind: 'relinked',
              seq: prev.seq,
              detail: 'the closed session record names another last hash',
            });
        } else if (prev !== null && anchor.statement_count < prev.seq) {
          problems.push({
            kind: 'foreign',
            seq: anchor.statement_count + 1,
            detail: `the closed session record counts ${anchor.statement_count} statements`,
          });
        }
      }
      return { ok: problems.length === 0, sessionId, records: count, problems };
    },
  };
}

/**
 * Verifies one stored session (for `pgward audit verify`): its statements page by page in seq order,
 * anchored by its closed record when there is one.
 */
export async function verifySession(
  runner: SqlRunner,
  sessionId: string,
): Promise<ChainReport & { readonly closed: boolean }> {
  const verifier = createChainVerifier(sessionId);
  let afterSeq = 0;
  const span = await sessionSpan(runner, sessionId);
  for (;;) {
    const page = await sessionStatements(runner, sessionId, { afterSeq, limit: MAX_PAGE, span });
    for (const r of page.items) verifier.push(r);
    if (page.next === null) break;
    afterSeq = Number(page.next);
  }
  const closed = (await sessionEvents(runner, sessionId)).find((e) => e.event === 'closed');
  return { ...verifier.finish(closed ?? null), closed: closed !== undefined };
}

function reportMissing(problems: ChainProblem[], from: number, through: number): void {
  if (through - from + 1 > MAX_MISSING_LISTED) {
    problems.push({ kind: 'missing', seq: from, detail: `seq ${from} through ${through} missing` });
    return;
  }
  for (let seq = from; seq <= through; seq++)
    problems.push({ kind: 'missing', seq, detail: 'no record with this seq' });
}
