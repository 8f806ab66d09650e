// The per-session hash chain: each statement record gets the next seq and
// hash = sha256(prev_hash || canonical JSON of the record without prev_hash and hash),
// where the first prev_hash is sha256(session_id). Tampering with any record breaks the chain.

import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { StatementRecord, UnsealedStatementRecord } from './record.js';

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The prev_hash of a session's first record. */
export const chainStart = (sessionId: string): string => sha256Hex(sessionId);

/** The hash a record must carry, computed from its other fields (its own prev_hash included). */
export function recordHash(
  record: Omit<StatementRecord, 'hash'> & { readonly hash?: string },
): string {
  // The rest sibling drops `hash` (when present) from the hashed content.
  const { prev_hash, hash: _hash, ...rest } = record;
  return sha256Hex(prev_hash + canonicalJson(rest));
}

export interface ChainHead {
  readonly count: number;
  readonly lastHash: string;
}

/** Chain state of the sessions open in this process (a session lives in exactly one process). */
export interface ChainBook {
  /** Places records at the end of their session's chain, in order. */
  seal(records: readonly UnsealedStatementRecord[]): StatementRecord[];
  /** The chain's length and head; the session's state is forgotten. */
  close(sessionId: string): ChainHead;
  readonly openSessions: number;
}

export function createChainBook(): ChainBook {
  const heads = new Map<string, ChainHead>();
  const headOf = (sessionId: string): ChainHead =>
    heads.get(sessionId) ?? { count: 0, lastHash: chainStart(sessionId) };
  return {
    seal(records) {
      return records.map((r) => {
        const head = headOf(r.session_id);
        const unhashed = { ...r, seq: head.count + 1, prev_hash: head.lastHash };
        const sealed: StatementRecord = { ...unhashed, hash: recordHash(unhashed) };
        heads.set(r.session_id, { count: sealed.seq, lastHash: sealed.hash });
        return sealed;
      });
    },
    close(sessionId) {
      const head = headOf(sessionId);
      heads.delete(sessionId);
      return head;
    },
    get openSessions() {
      return heads.size;
    },
  };
}
