// Counts the runs of granted approvals against approvals.max_uses. One ledger serves the whole gateway:
// in one process it is local; under node:cluster the primary holds it and workers ask it over IPC, so
// an approval allowed once runs once whichever worker the client reached. Counts live as long as the
// gateway (a restart starts them again).

/**
 * Counted: one run of each approval was added. Otherwise nothing was counted: `id` has already run its
 * `max` times, or (uncounted) the ledger could not be asked.
 */
export type SpendResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly id: string; readonly why: 'used' | 'uncounted' };

const COUNTED: SpendResult = { ok: true };

export interface ApprovalUses {
  /** Atomically: if every id has run fewer than `max` times, counts one run of each. */
  spend(ids: readonly string[], max: number): SpendResult | Promise<SpendResult>;
}

/** The ledger itself, in memory; the least recently counted approval is forgotten past `maxTracked`. */
export function localApprovalUses(maxTracked = 10_000): {
  spend(ids: readonly string[], max: number): SpendResult;
  count(id: string): number;
} {
  const uses = new Map<string, number>();
  return {
    spend(ids, max) {
      const spent = ids.find((id) => (uses.get(id) ?? 0) >= max);
      if (spent !== undefined) return { ok: false, id: spent, why: 'used' };
      for (const id of ids) {
        const n = (uses.get(id) ?? 0) + 1;
        uses.delete(id);
        if (uses.size >= maxTracked) uses.delete(uses.keys().next().value!);
        uses.set(id, n);
      }
      return COUNTED;
    },
    count: (id) => uses.get(id) ?? 0,
  };
}

/** A worker's request to the primary's ledger, and its answer. */
export interface SpendRequest {
  readonly type: 'approval-spend';
  readonly id: number;
  readonly ids: readonly string[];
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
    spend(ids, max) {
      const id = ++next;
      return new Promise<SpendResult>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve({ ok: false, id: ids[0] ?? '', why: 'uncounted' });
        }, timeoutMs);
        waiting.set(id, { resolve, timer });
        send({ type: 'approval-spend', id, ids, max });
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
