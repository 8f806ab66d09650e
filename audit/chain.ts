// The per-session hash chain: each statement record gets the next seq and
// hash = sha256(prev_hash || canonical JSON of the record without prev_hash and hash),
// where the first prev_hash is sha256(session_id). Tampering with any record breaks the chain.

import { hash } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import { type SealedLine, sealStatement } from './encode.js';
import type { StatementRecord, UnsealedStatementRecord } from './record.js';

const sha256Hex = (text: string): string => hash('sha256', text, 'hex');

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
  /** As seal, but each placed record comes out as its table line only (the gateway's path). */
  sealLines(records: readonly UnsealedStatementRecord[]): string[];
  /** The chain's length and head; the session's state is forgotten. */
  close(sessionId: string): ChainHead;
  readonly openSessions: number;
}

export function createChainBook(): ChainBook {
  const heads = new Map<string, ChainHead>();
  const headOf = (sessionId: string): ChainHead =>
    heads.get(sessionId) ?? { count: 0, lastHash: chainStart(sessionId) };
  /** The record at the end of its chain: the same hash recordHash gives the sealed record (tested). */
  const place = (r: UnsealedStatementRecord): { seq: number; prevHash: string } & SealedLine => {
    const head = headOf(r.session_id);
    const seq = head.count + 1;
    const sealed = sealStatement(r, seq, head.lastHash, sha256Hex);
    heads.set(r.session_id, { count: seq, lastHash: sealed.hash });
    return { seq, prevHash: head.lastHash, hash: sealed.hash, line: sealed.line };
  };
  return {
    seal(records) {
      return records.map((r) => {
        const p = place(r);
        return { ...r, seq: p.seq, prev_hash: p.prevHash, hash: p.hash };
      });
    },
    sealLines(records) {
      return records.map((r) => place(r).line);
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
