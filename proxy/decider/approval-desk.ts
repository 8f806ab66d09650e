// The gateway's side of human approval. For a request refused with approval_required it names the
// approval request (a deterministic id) and files it in the background — idempotent, retried with
// backoff, failures logged; it counts uses of granted approvals (max_uses), refuses approvals for
// statements whose text does not show their values, and holds statements in wait mode until the
// bundle that carries their approval is served.

import type { Logger } from '../../lib/log.js';
import type { Approval } from '../../policy/contracts.js';
import {
  approvalRequestId,
  buildApprovalRequest,
  type FileApprovalOptions,
  type FileApprovalResult,
  fileApprovalRequest,
  redact,
} from '../../policy/repo/approval-request.js';
import type { GitHost } from '../../policy/repo/git-host.js';
import type { AnalyzedStatement } from '../analyzer/facts.js';
import { scanSql } from '../analyzer/sql-scanner.js';
import { errorOrNotice } from '../wire/backend-messages.js';
import type { ClientError } from '../wire/client-errors.js';
import { type ApprovalUses, localApprovalUses, type SpendResult } from './approval-uses.js';
import type { JudgeContext, Verdict } from './judge.js';

export interface ApprovalDeskOptions {
  /** Git URL or path of the policy source repository. */
  readonly repo: string;
  readonly base?: string;
  readonly branchPrefix: string;
  readonly windowMs: number;
  /** Wait mode: how long a statement awaiting approval is held (0: refused at once). */
  readonly waitMs: number;
  /** Runs one approval allows across the gateway; null: unlimited inside the window. */
  readonly maxUses: number | null;
  /** Where runs are counted; default a ledger in this process (under node:cluster, the primary's). */
  readonly uses?: ApprovalUses;
  readonly timeoutMs: number;
  readonly gitHost: GitHost | null;
  /** Epoch milliseconds (the gateway's clock): the requested window starts here. */
  readonly now: () => number;
  readonly log: Logger;
  readonly retry?: {
    readonly baseMs: number;
    readonly maxMs: number;
    readonly maxAttempts: number;
  };
  /** Requests remembered (filed ids, retries); the oldest settled ones are forgotten first. */
  readonly maxTracked?: number;
  /** Files one request; default fileApprovalRequest (tests replace it). */
  readonly file?: (options: FileApprovalOptions) => Promise<FileApprovalResult>;
  /** Every filing outcome, for metrics and audit. */
  readonly onEvent?: (event: ApprovalDeskEvent) => void;
}

export type ApprovalDeskEvent =
  | { readonly type: 'filed'; readonly id: string; readonly pullRequestUrl: string | null }
  | { readonly type: 'pending' | 'granted'; readonly id: string }
  | {
      readonly type: 'failed';
      readonly id: string;
      readonly attempt: number;
      readonly error: string;
      /** Milliseconds until the next attempt; null: no more attempts until the statement runs again. */
      readonly retryInMs: number | null;
    };

export type RequestState =
  | 'queued'
  | 'filing'
  | 'retrying'
  | 'filed'
  | 'pending'
  | 'granted'
  | 'gave_up';

/** The request a refusal names: its id and what the person should do next. */
export interface ApprovalReference {
  readonly id: string;
  readonly next: string;
}

export interface Reviewed {
  /** The verdict to enforce (a granted approval past max_uses, or over bound parameters, is refused). */
  readonly verdict: Verdict;
  /** The request(s) a refusal for approval names; null when none could be filed. */
  readonly request: ApprovalReference | null;
}

export type WaitOutcome = 'approved' | 'timeout' | 'cancelled';

export interface ApprovalDesk {
  readonly waitMs: number;
  /**
   * Reviews a judged request: files the approval requests of a refusal for approval (in the
   * background, idempotent) and names them; counts uses of the approvals that let it run (a promise
   * only when the count is kept by another process).
   */
  review(
    statements: readonly AnalyzedStatement[],
    verdict: Verdict,
    ctx: JudgeContext,
  ): Reviewed | Promise<Reviewed>;
  /** Holds until `approved()` turns true at a bundle swap, the wait ends, or `signal` aborts. */
  wait(signal: AbortSignal, approved: () => boolean): Promise<WaitOutcome>;
  /** The serving bundle changed: held statements are judged again. */
  bundleSwapped(): void;
  /** The NoticeResponse telling a waiting client which request it waits for. */
  waitNotice(request: ApprovalReference): Buffer;
  /** The error ending a wait the client cancelled (SQLSTATE 57014). */
  cancelledError(request: ApprovalReference): ClientError;
  state(id: string): RequestState | undefined;
  /** Resolves once no filing is queued or running (scheduled retries do not count). */
  idle(): Promise<void>;
  /** Stops retries; later requests are named but not filed. */
  close(): void;
}

interface Tracked {
  readonly id: string;
  readonly approval: Approval;
  state: RequestState;
  attempts: number;
  pullRequestUrl: string | null;
  /** Epoch ms after which a settled request may be filed again (its window ended). */
  freshUntil: number;
  timer: NodeJS.Timeout | null;
}

const DEFAULT_RETRY = { baseMs: 1000, maxMs: 300_000, maxAttempts: 10 };
const MAX_QUEUED = 1000;

export function createApprovalDesk(options: ApprovalDeskOptions): ApprovalDesk {
  const { log } = options;
  const retry = options.retry ?? DEFAULT_RETRY;
  const maxTracked = options.maxTracked ?? 10_000;
  const file = options.file ?? fileApprovalRequest;
  const tracked = new Map<string, Tracked>();
  const uses = options.uses ?? localApprovalUses({ now: options.now });
  const queue: Tracked[] = [];
  const waiters = new Set<() => void>();
  const idleWaiters: (() => void)[] = [];
  let running = false;
  let closed = false;

  const emit = (event: ApprovalDeskEvent) => {
    try {
      options.onEvent?.(event);
    } catch (err) {
      log.warn('approval event listener failed', { err });
    }
  };

  const settleIdle = () => {
    if (running || queue.length > 0) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  };

  const attempt = async (t: Tracked): Promise<void> => {
    t.state = 'filing';
    t.attempts++;
    try {
      const result = await file({
        repo: options.repo,
        approval: { $schema: 'https://pgward.dev/schemas/approval.schema.json', ...t.approval },
        branchPrefix: options.branchPrefix,
        gitHost: options.gitHost,
        timeoutMs: options.timeoutMs,
        now: new Date(options.now()),
        ...(options.base !== undefined ? { base: options.base } : {}),
      });
      t.state = result.outcome;
      if (result.outcome === 'filed') {
        const pr = result.pullRequest;
        t.pullRequestUrl = pr?.outcome === 'opened' ? pr.url : null;
        log.info('approval request filed', {
          approval_id: t.id,
          branch: result.branch,
          commit: result.commit,
          pull_request: t.pullRequestUrl,
        });
        emit({ type: 'filed', id: t.id, pullRequestUrl: t.pullRequestUrl });
      } else {
        emit({ type: result.outcome, id: t.id });
      }
    } catch (err) {
      const error = redact(err instanceof Error ? err.message : String(err)).slice(0, 500);
      const last = t.attempts >= retry.maxAttempts || closed;
      const delay = last ? null : Math.min(retry.maxMs, retry.baseMs * 2 ** (t.attempts - 1));
      // The statement stays refused whatever happens here: a failure only delays the request.
      (last ? log.error : log.warn)('approval request filing failed', {
        approval_id: t.id,
        attempt: t.attempts,
        retry_in_ms: delay,
        reason: error,
      });
      emit({ type: 'failed', id: t.id, attempt: t.attempts, error, retryInMs: delay });
      if (delay === null) {
        t.state = 'gave_up';
        return;
      }
      t.state = 'retrying';
      t.timer = setTimeout(() => {
        t.timer = null;
        enqueue(t);
      }, delay);
      t.timer.unref();
    }
  };

  const pump = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        if (!closed) await attempt(next);
      }
    } finally {
      running = false;
      settleIdle();
    }
  };

  const enqueue = (t: Tracked) => {
    if (closed) return;
    if (queue.length >= MAX_QUEUED) {
      t.state = 'gave_up';
      log.warn('approval request queue is full; request not filed', { approval_id: t.id });
      return;
    }
    t.state = 'queued';
    queue.push(t);
    void pump();
  };

  const remember = (t: Tracked) => {
    if (tracked.size >= maxTracked) {
      for (const [id, old] of tracked) {
        if (old.state === 'queued' || old.state === 'filing') continue;
        if (old.timer !== null) clearTimeout(old.timer);
        tracked.delete(id);
        break;
      }
    }
    tracked.set(t.id, t);
  };

  /** Files (once) the request for one statement; returns its id. */
  const request = (
    statement: AnalyzedStatement,
    reasons: Verdict['decisions'][number]['reasons'],
    ctx: JudgeContext,
  ) => {
    const sub = ctx.identity.sub;
    const id = approvalRequestId(sub, ctx.database, statement.facts.sha256);
    const nowMs = options.now();
    const known = tracked.get(id);
    if (known !== undefined) {
      const settled =
        known.state !== 'queued' && known.state !== 'filing' && known.state !== 'retrying';
      if (!settled || nowMs < known.freshUntil) {
        if (known.state === 'gave_up') {
          known.attempts = 0;
          enqueue(known);
        }
        return known;
      }
    }
    const approval = buildApprovalRequest({
      sub,
      database: ctx.database,
      sql: statement.text,
      sha256: statement.facts.sha256,
      fingerprint: statement.facts.fingerprint,
      reasons: reasons.filter((r) => r.enforce !== false),
      sessionId: ctx.sessionId,
      requestedAt: new Date(nowMs),
      windowMs: options.windowMs,
    });
    const { $schema: _editorOnly, ...bare } = approval;
    const t: Tracked = {
      id,
      approval: bare,
      state: 'queued',
      attempts: 0,
      pullRequestUrl: known?.pullRequestUrl ?? null,
      freshUntil: Date.parse(approval.expires_at),
      timer: null,
    };
    remember(t);
    enqueue(t);
    return t;
  };

  const nextStep = (t: Tracked): string => {
    const branch = `${options.branchPrefix}${t.id}`;
    if (t.state === 'granted')
      return 'already approved; it applies once the gateway serves the rebuilt policy bundle';
    if (t.pullRequestUrl !== null) return `approve by merging pull request ${t.pullRequestUrl}`;
    return `approve by merging ${branch}`;
  };

  return {
    waitMs: options.waitMs,

    review(statements, verdict, ctx) {
      if (verdict.allow) {
        const admitted = admit(statements, verdict);
        return admitted instanceof Promise
          ? admitted.then((v) => ({ verdict: v, request: null }))
          : { verdict: admitted, request: null };
      }
      if (verdict.outcome !== 'approval_required') return { verdict, request: null };
      // Only when approvals are all that is missing does a request make sense.
      const needs = verdict.decisions.flatMap((d, i) => (d.allow ? [] : [i]));
      if (needs.some((i) => verdict.decisions[i]!.outcome !== 'approval_required'))
        return { verdict, request: null };
      const ids: Tracked[] = [];
      for (const i of needs) {
        const s = statements[i];
        if (s === undefined || !approvable(s)) {
          return {
            verdict: refused(verdict, {
              rule: 'approval.bound_parameters',
              message:
                'an approval covers an exact statement text, and this one takes bound parameters ($n) whose values no approval can show: send it with the values written in the text',
            }),
            request: null,
          };
        }
        try {
          ids.push(request(s, verdict.decisions[i]!.reasons, ctx));
        } catch (err) {
          log.warn('approval request not filed', { err, session: ctx.sessionId });
          return { verdict, request: null };
        }
      }
      const first = ids[0];
      if (first === undefined) return { verdict, request: null };
      const more =
        ids.length > 1
          ? ` (and ${ids
              .slice(1)
              .map((t) => t.id)
              .join(', ')})`
          : '';
      return { verdict, request: { id: `${first.id}${more}`, next: nextStep(first) } };
    },

    wait(signal, approved) {
      return new Promise<WaitOutcome>((resolve) => {
        if (signal.aborted) return resolve('cancelled');
        const check = () => {
          let ok = false;
          try {
            ok = approved();
          } catch (err) {
            log.warn('re-judging a held statement failed', { err });
          }
          if (ok) done('approved');
        };
        const onAbort = () => done('cancelled');
        const timer = setTimeout(() => done('timeout'), options.waitMs);
        const done = (outcome: WaitOutcome) => {
          clearTimeout(timer);
          waiters.delete(check);
          signal.removeEventListener('abort', onAbort);
          resolve(outcome);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiters.add(check);
        check();
      });
    },

    bundleSwapped() {
      for (const check of [...waiters]) check();
    },

    waitNotice(request) {
      return errorOrNotice('N', {
        severity: 'NOTICE',
        code: '00000',
        message: `pgward: holding this statement up to ${Math.ceil(options.waitMs / 1000)}s for approval request ${request.id}`,
        hint: `${capitalize(request.next)}; it runs as soon as the approved policy is served. Cancel to stop waiting.`,
      });
    },

    cancelledError(request) {
      // TODO(client-errors owner): move into proxy/wire/client-errors.ts as approvalWaitCancelled.
      const message = `canceling statement due to user request (it was waiting for approval request ${request.id})`;
      const bytes = errorOrNotice('E', {
        severity: 'ERROR',
        code: '57014',
        message,
        hint: `The request stays open: ${request.next}, then run the statement again.`,
      });
      return { bytes, fatal: false, sqlstate: '57014', message };
    },

    state: (id) => tracked.get(id)?.state,

    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      });
    },

    close() {
      closed = true;
      queue.length = 0;
      for (const t of tracked.values()) if (t.timer !== null) clearTimeout(t.timer);
      settleIdle();
    },
  };

  /** Counts a use of each approval that lets this request run; refuses past max_uses. */
  function admit(
    statements: readonly AnalyzedStatement[],
    verdict: Verdict,
  ): Verdict | Promise<Verdict> {
    // The hot path: most allowed requests involve no approval, and allocate nothing here.
    let any = false;
    for (const d of verdict.decisions) any ||= d.approval.id !== null;
    if (!any) return verdict;
    const approved = verdict.decisions.flatMap((d, i) =>
      d.approval.id === null
        ? []
        : [
            {
              ref: {
                id: d.approval.id,
                notBefore: d.approval.not_before ?? null,
                expiresAt: d.approval.expires_at ?? null,
              },
              statement: statements[i],
            },
          ],
    );
    if (approved.length === 0) return verdict;
    // SECURITY: an approval names an exact text; bound parameter values are not part of it.
    if (approved.some((a) => a.statement === undefined || !approvable(a.statement))) {
      return refused(verdict, {
        rule: 'approval.bound_parameters',
        message:
          'an approval covers an exact statement text, not the bound parameter values this one takes',
      });
    }
    const max = options.maxUses;
    if (max === null) return verdict;
    const spent = uses.spend(
      approved.map((a) => a.ref),
      max,
    );
    return spent instanceof Promise
      ? spent.then((s) => counted(verdict, s, max))
      : counted(verdict, spent, max);
  }
}

function counted(verdict: Verdict, spent: SpendResult, max: number): Verdict {
  if (spent.ok) return verdict;
  return refused(verdict, {
    rule: 'approval.max_uses',
    message:
      spent.why === 'used'
        ? `approval ${spent.id} was already used ${max} time${max === 1 ? '' : 's'} on this gateway, its limit`
        : `approval ${spent.id} could not be counted against its limit of ${max}, so it is not used now`,
  });
}

/** A statement whose text shows everything it does: non-empty and without `$n` parameters. */
function approvable(statement: AnalyzedStatement): boolean {
  if (statement.text.trim() === '') return false;
  return scanSql(statement.text).segments.every((s) => s.maxParam === 0);
}

function refused(verdict: Verdict, denial: { rule: string; message: string }): Verdict {
  return { ...verdict, allow: false, outcome: 'blocked', denial };
}

function capitalize(text: string): string {
  return text.length === 0 ? text : `${text[0]!.toUpperCase()}${text.slice(1)}`;
}
