// The approval desk with a stand-in for git: request ids and hints, filing once in the background,
// retries with backoff and their log lines, approval uses (max_uses), bound parameters, wait mode.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.js';
import type { Decision } from '../../policy/contracts.js';
import {
  approvalRequestId,
  type FileApprovalOptions,
  type FileApprovalResult,
  sha256Hex,
} from '../../policy/repo/approval-request.js';
import type { AnalyzedStatement, StatementFacts } from '../analyzer/facts.js';
import {
  type ApprovalDeskEvent,
  type ApprovalDeskOptions,
  createApprovalDesk,
} from './approval-desk.js';
import {
  localApprovalUses,
  remoteApprovalUses,
  type SpendRequest,
  type SpendResult,
} from './approval-uses.js';
import type { JudgeContext, Verdict } from './judge.js';

const SQL = 'DELETE FROM orders WHERE id = 3';
const NOW = Date.parse('2026-11-25T10:00:00Z');

const statement = (text: string): AnalyzedStatement => ({
  text,
  normalized: text,
  effects: [],
  cacheKey: null,
  outputs: null,
  facts: { sha256: sha256Hex(text), fingerprint: 'fp1' } as unknown as StatementFacts,
});

const decision = (over: Partial<Decision> = {}): Decision => ({
  allow: false,
  outcome: 'approval_required',
  reasons: [{ rule: 'approval.ops_delete', message: 'DELETE needs approval', enforce: true }],
  approval: { required: true, id: null },
  mask: {},
  grant_ids: [],
  limits: { max_rows: null, explain_max_rows: null },
  valid_until: null,
  ...over,
});

const verdictOf = (...decisions: Decision[]): Verdict => {
  const refused = decisions.find((d) => !d.allow);
  return {
    outcome: refused === undefined ? 'allowed' : refused.outcome,
    allow: refused === undefined,
    decisions,
    denial: refused?.reasons[0] ?? null,
    wouldBlock: [],
    mask: {},
    explain: [],
    revision: 'r1',
  };
};

const WINDOW = { not_before: '2026-11-24T10:00:00Z', expires_at: '2026-11-24T11:00:00Z' };

const approved = (id: string, window: Partial<typeof WINDOW> = WINDOW) =>
  verdictOf(
    decision({
      allow: true,
      outcome: 'allowed',
      reasons: [],
      approval: { required: true, id, ...window },
    }),
  );

const ref = (id: string) => ({
  id,
  notBefore: WINDOW.not_before,
  expiresAt: WINDOW.expires_at,
});

const ctx: JudgeContext = {
  identity: { sub: 'svc-ops', groups: ['ops'], issuer: 'static', via: 'password', expiresAt: null },
  sessionId: 's_1',
  database: 'app',
  applicationName: 'test',
  clientAddr: '127.0.0.1',
  searchPath: ['public'],
  inTransaction: false,
};

function desk(over: Partial<ApprovalDeskOptions> = {}) {
  const calls: FileApprovalOptions[] = [];
  const events: ApprovalDeskEvent[] = [];
  const lines: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  let answer: (o: FileApprovalOptions) => Promise<FileApprovalResult> = async (o) => ({
    outcome: 'filed',
    id: o.approval.id,
    branch: `approval/${o.approval.id}`,
    base: 'main',
    commit: 'c0ffee',
    pullRequest: { outcome: 'opened', number: 4, url: 'https://git.example/pr/4' },
  });
  const desk = createApprovalDesk({
    repo: '/nowhere',
    branchPrefix: 'approval/',
    windowMs: 3_600_000,
    waitMs: 0,
    maxUses: null,
    timeoutMs: 10_000,
    gitHost: null,
    now: () => NOW,
    log: createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l)) }),
    retry: { baseMs: 5, maxMs: 20, maxAttempts: 3 },
    file: (o) => {
      calls.push(o);
      return answer(o);
    },
    onEvent: (e) => {
      events.push(e);
      for (const l of [...listeners]) l();
    },
    ...over,
  });
  // With the ledger in this process, a review is synchronous.
  const d = {
    ...desk,
    review: (...args: Parameters<typeof desk.review>) => {
      const reviewed = desk.review(...args);
      if (reviewed instanceof Promise) throw new Error('the review did not complete at once');
      return reviewed;
    },
  };
  /** Resolves once `done()` holds after some event (no polling: checked at each event). */
  const until = (done: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!done()) return;
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
      check();
    });
  return { d, desk, calls, events, lines, until, answer: (f: typeof answer) => (answer = f) };
}

const ID = approvalRequestId('svc-ops', 'app', sha256Hex(SQL));

describe('approval desk: requests', () => {
  it('names a refusal for approval by its id, files it once, and names the PR once known', async () => {
    const { d, calls } = desk();
    const first = d.review([statement(SQL)], verdictOf(decision()), ctx);
    expect(first.verdict.outcome).toBe('approval_required');
    expect(first.request).toEqual({ id: ID, next: `approve by merging approval/${ID}` });
    await d.idle();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.approval).toMatchObject({
      id: ID,
      identity: { sub: 'svc-ops' },
      database: 'app',
      sql: SQL,
      sha256: sha256Hex(SQL),
      fingerprint: 'fp1',
      requester: 'svc-ops',
      not_before: '2026-11-25T10:00:00Z',
      expires_at: '2026-11-25T11:00:00Z',
    });
    const again = d.review([statement(SQL)], verdictOf(decision()), ctx);
    expect(again.request).toEqual({
      id: ID,
      next: 'approve by merging pull request https://git.example/pr/4',
    });
    await d.idle();
    expect(calls).toHaveLength(1);
    expect(d.state(ID)).toBe('filed');
  });

  it('retries a failing filing with backoff and logs each failure; gives up, then retries on demand', async () => {
    const { d, calls, events, lines, until, answer } = desk();
    answer(async () => {
      throw new Error('fatal: could not read from https://user:tok@git.example/repo');
    });
    const reviewed = d.review([statement(SQL)], verdictOf(decision()), ctx);
    expect(reviewed.request?.id).toBe(ID);
    expect(reviewed.verdict.allow).toBe(false);
    await until(() => events.some((e) => e.type === 'failed' && e.retryInMs === null));
    expect(d.state(ID)).toBe('gave_up');
    expect(events).toEqual([
      { type: 'failed', id: ID, attempt: 1, error: expect.any(String), retryInMs: 5 },
      { type: 'failed', id: ID, attempt: 2, error: expect.any(String), retryInMs: 10 },
      { type: 'failed', id: ID, attempt: 3, error: expect.any(String), retryInMs: null },
    ]);
    expect(JSON.stringify(events)).not.toContain('tok@');
    expect(
      lines.filter((l) => l.msg === 'approval request filing failed').map((l) => l.level),
    ).toEqual(['warn', 'warn', 'error']);
    // The statement runs again: the request is filed afresh.
    answer(async (o) => ({ outcome: 'pending', id: o.approval.id, branch: 'x' }));
    expect(d.review([statement(SQL)], verdictOf(decision()), ctx).request?.id).toBe(ID);
    await d.idle();
    expect(calls).toHaveLength(4);
    expect(d.state(ID)).toBe('pending');
  });

  it('files nothing when another rule blocks too, and refuses texts with bound parameters', async () => {
    const { d, calls } = desk();
    const blocked = decision({
      outcome: 'blocked',
      reasons: [{ rule: 'access.no_grant', message: 'x' }],
    });
    expect(
      d.review([statement(SQL), statement('DROP TABLE x')], verdictOf(decision(), blocked), ctx),
    ).toMatchObject({
      request: null,
    });
    const param = d.review(
      [statement('DELETE FROM orders WHERE id = $1')],
      verdictOf(decision()),
      ctx,
    );
    expect(param.request).toBeNull();
    expect(param.verdict).toMatchObject({
      allow: false,
      outcome: 'blocked',
      denial: { rule: 'approval.bound_parameters' },
    });
    await d.idle();
    expect(calls).toEqual([]);
  });
});

describe('approval desk: uses', () => {
  it('counts the runs an approval allows and refuses past max_uses', () => {
    const { d } = desk({ maxUses: 2 });
    const run = () => d.review([statement(SQL)], approved('apr-1'), ctx).verdict;
    expect(run().allow).toBe(true);
    expect(run().allow).toBe(true);
    expect(run()).toMatchObject({
      allow: false,
      outcome: 'blocked',
      denial: {
        rule: 'approval.max_uses',
        message: expect.stringMatching(/apr-1 was already used 2 times/),
      },
    });
    // Allowed without an approval: nothing is counted.
    const plain = verdictOf(
      decision({ allow: true, outcome: 'allowed', approval: { required: false, id: null } }),
    );
    expect(d.review([statement('SELECT 1')], plain, ctx).verdict).toBe(plain);
  });

  it('counts an approval issued again with a new window afresh', () => {
    const { d } = desk({ maxUses: 1 });
    const run = (window?: Partial<typeof WINDOW>) =>
      d.review([statement(SQL)], approved('apr-1', window), ctx).verdict;
    expect(run().allow).toBe(true);
    expect(run().allow).toBe(false);
    // The same statement approved the next day keeps its id (it names identity, database and text).
    const nextDay = { not_before: '2026-11-25T10:00:00Z', expires_at: '2026-11-25T11:00:00Z' };
    expect(run(nextDay).allow).toBe(true);
    expect(run(nextDay)).toMatchObject({ allow: false, denial: { rule: 'approval.max_uses' } });
    // A policy that gives no window counts by id alone.
    expect(run({}).allow).toBe(true);
    expect(run({}).allow).toBe(false);
  });

  it('counts one run of a request that several of its statements owe to one approval', () => {
    const { d } = desk({ maxUses: 2 });
    const both = verdictOf(approved('apr-1').decisions[0]!, approved('apr-1').decisions[0]!);
    expect(d.review([statement(SQL), statement(SQL)], both, ctx).verdict.allow).toBe(true);
    expect(d.review([statement(SQL)], approved('apr-1'), ctx).verdict.allow).toBe(true);
    expect(d.review([statement(SQL)], approved('apr-1'), ctx).verdict.allow).toBe(false);
  });

  it('counts in the ledger it is given: a remote count holds the review, a missing answer refuses', async () => {
    const asked: SpendRequest[] = [];
    const primary = localApprovalUses();
    const remote = remoteApprovalUses((r) => {
      asked.push(r);
      // The primary answers on its own turn, as over IPC.
      setImmediate(() =>
        remote.answered({
          type: 'approval-spent',
          id: r.id,
          spent: primary.spend(r.approvals, r.max) as SpendResult,
        }),
      );
    }, 5_000);
    const { desk: remoteDesk } = desk({ maxUses: 1, uses: remote });
    const first = remoteDesk.review([statement(SQL)], approved('apr-3'), ctx);
    expect(first).toBeInstanceOf(Promise);
    expect((await first).verdict.allow).toBe(true);
    expect(
      (await remoteDesk.review([statement(SQL)], approved('apr-3'), ctx)).verdict,
    ).toMatchObject({
      allow: false,
      denial: {
        rule: 'approval.max_uses',
        message: expect.stringMatching(/apr-3 was already used 1 time on this gateway/),
      },
    });
    expect(asked.map((r) => [r.approvals, r.max])).toEqual([
      [[ref('apr-3')], 1],
      [[ref('apr-3')], 1],
    ]);
    expect(primary.count(ref('apr-3'))).toBe(1);

    // SECURITY: no answer (the primary is gone) counts nothing and refuses.
    const silent = remoteApprovalUses(() => undefined, 20);
    const { desk: silentDesk } = desk({ maxUses: 5, uses: silent });
    expect(
      (await silentDesk.review([statement(SQL)], approved('apr-4'), ctx)).verdict,
    ).toMatchObject({
      allow: false,
      denial: {
        rule: 'approval.max_uses',
        message: expect.stringMatching(/apr-4 could not be counted/),
      },
    });
  });

  it('counts a request atomically: nothing is counted when one of its approvals is spent', () => {
    const ledger = localApprovalUses();
    expect(ledger.spend([ref('a')], 1)).toEqual({ ok: true });
    expect(ledger.spend([ref('b'), ref('a')], 1)).toEqual({ ok: false, id: 'a', why: 'used' });
    expect(ledger.count(ref('b'))).toBe(0);
    expect(ledger.spend([ref('b')], 1)).toEqual({ ok: true });
  });

  it('never lets an approval cover bound parameter values', () => {
    const { d } = desk();
    expect(
      d.review([statement('DELETE FROM orders WHERE id = $1')], approved('apr-2'), ctx).verdict,
    ).toMatchObject({
      allow: false,
      denial: { rule: 'approval.bound_parameters' },
    });
  });
});

describe('approval desk: wait mode', () => {
  it('ends a wait when a swapped bundle approves, at the deadline, or when cancelled', async () => {
    const { d } = desk({ waitMs: 60_000 });
    let ok = false;
    const hold = new AbortController();
    const waiting = d.wait(hold.signal, () => ok);
    d.bundleSwapped();
    ok = true;
    d.bundleSwapped();
    expect(await waiting).toBe('approved');

    const cancel = new AbortController();
    const cancelled = d.wait(cancel.signal, () => false);
    cancel.abort();
    expect(await cancelled).toBe('cancelled');

    const short = desk({ waitMs: 1 }).d;
    expect(await short.wait(new AbortController().signal, () => false)).toBe('timeout');
  });

  it('tells the client which request it waits for, and ends a cancelled wait with 57014', () => {
    const { d } = desk({ waitMs: 30_000 });
    const request = { id: ID, next: `approve by merging approval/${ID}` };
    const notice = d.waitNotice(request);
    expect(notice[0]).toBe(0x4e);
    expect(notice.toString()).toContain(`approval request ${ID}`);
    expect(notice.toString()).toContain(`Approve by merging approval/${ID}`);
    const error = d.cancelledError(request);
    expect(error).toMatchObject({ sqlstate: '57014', fatal: false });
    expect(error.bytes[0]).toBe(0x45);
    expect(error.bytes.toString()).toContain('57014');
  });
});
