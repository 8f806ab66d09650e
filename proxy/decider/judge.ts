// Judges the statements of one request: builds the policy input for each, evaluates the serving bundle
// (through a bounded cache where that cannot change an outcome), and folds the decisions into one verdict.

import type { Decision, PolicyInput } from '../../policy/contracts.js';
import type { AnalyzedStatement } from '../analyzer/facts.js';
import type { Identity } from '../auth/authenticator.js';

/** The serving policy; `current()` is null while no valid bundle exists (then everything is denied). */
export interface PolicySource {
  current(): PolicyEngine | null;
}

export interface PolicyEngine {
  readonly revision: string;
  evaluate(input: PolicyInput): Decision;
}

export interface JudgeContext {
  readonly identity: Identity;
  readonly sessionId: string;
  readonly database: string;
  readonly applicationName: string;
  readonly clientAddr: string;
  readonly searchPath: readonly string[];
  readonly inTransaction: boolean;
}

export type ReasonRef = { readonly rule: string; readonly message: string };

export interface Verdict {
  readonly outcome: Decision['outcome'];
  /** True when every statement may run (shadowed denials included). */
  readonly allow: boolean;
  readonly decisions: readonly Decision[];
  /** The first enforced reason that blocks, when the request is refused. */
  readonly denial: ReasonRef | null;
  /** Denials of shadow rules (enforce: false): recorded as would_block, not enforced. */
  readonly wouldBlock: readonly ReasonRef[];
  /** Merged mask plan over all statements: schema.table.column → method. */
  readonly mask: Readonly<Record<string, string>>;
  /** Row-estimate guardrails to check before running: statement index → limit. */
  readonly explain: readonly { readonly index: number; readonly maxRows: number }[];
  readonly revision: string | null;
}

export interface JudgeOptions {
  readonly source: PolicySource;
  /** Epoch milliseconds; injected so expiry is testable to the second. */
  readonly now: () => number;
  /** Decision cache entries (0 disables). */
  readonly cacheSize: number;
}

interface CacheEntry {
  readonly decision: Decision;
  readonly validUntil: number;
}

export interface Judge {
  judge(statements: readonly AnalyzedStatement[], ctx: JudgeContext): Verdict;
  readonly cacheSize: number;
}

const NO_BUNDLE: Decision = {
  allow: false,
  outcome: 'blocked',
  reasons: [
    { rule: 'policy.no_bundle', message: 'no valid policy bundle is being served', enforce: true },
  ],
  approval: { required: false, id: null },
  mask: {},
  grant_ids: [],
  limits: { max_rows: null, explain_max_rows: null },
  valid_until: null,
};

export function createJudge(options: JudgeOptions): Judge {
  const cache = new Map<string, CacheEntry>();
  const remember = (key: string, entry: CacheEntry) => {
    if (options.cacheSize <= 0) return;
    if (cache.size >= options.cacheSize) cache.delete(cache.keys().next().value!);
    cache.set(key, entry);
  };

  const decideOne = (
    engine: PolicyEngine,
    statement: AnalyzedStatement,
    ctx: JudgeContext,
    nowMs: number,
  ): Decision => {
    const key = cacheKeyOf(engine.revision, statement, ctx);
    if (key !== null) {
      const hit = cache.get(key);
      if (hit !== undefined && nowMs < hit.validUntil) return hit.decision;
    }
    const decision = engine.evaluate(inputOf(statement, ctx, nowMs));
    // SECURITY: a decision that involved an approval depends on the exact text (sha256): never shared.
    if (key !== null && decision.approval.id === null && !decision.approval.required) {
      remember(key, { decision, validUntil: validUntilOf(decision, nowMs) });
    }
    return decision;
  };

  return {
    get cacheSize() {
      return cache.size;
    },
    judge(statements, ctx) {
      const engine = options.source.current();
      const nowMs = options.now();
      const decisions = statements.map((s) =>
        engine === null ? NO_BUNDLE : decideOne(engine, s, ctx, nowMs),
      );
      return fold(decisions, engine?.revision ?? null);
    },
  };
}

function fold(decisions: readonly Decision[], revision: string | null): Verdict {
  let denial: ReasonRef | null = null;
  let outcome: Decision['outcome'] = 'allowed';
  const wouldBlock: ReasonRef[] = [];
  const mask: Record<string, string> = {};
  const explain: { index: number; maxRows: number }[] = [];
  decisions.forEach((d, index) => {
    for (const r of d.reasons)
      if (r.enforce === false) wouldBlock.push({ rule: r.rule, message: r.message });
    if (!d.allow) {
      if (denial === null) {
        const enforced = d.reasons.filter((r) => r.enforce !== false);
        const reason = [...(enforced.length > 0 ? enforced : d.reasons)].sort(
          (a, b) => reasonRank(a.rule) - reasonRank(b.rule),
        )[0];
        denial = reason ?? { rule: 'policy.denied', message: 'denied by policy' };
        outcome = d.outcome === 'approval_required' ? 'approval_required' : 'blocked';
      }
      return;
    }
    Object.assign(mask, d.mask);
    if (d.outcome === 'masked' && outcome === 'allowed') outcome = 'masked';
    const limit = d.limits.explain_max_rows;
    if (limit !== null && limit !== undefined) explain.push({ index, maxRows: limit });
  });
  if (decisions.length === 0) outcome = 'allowed';
  return {
    outcome,
    allow: denial === null,
    decisions,
    denial,
    wouldBlock,
    mask,
    explain,
    revision,
  };
}

/**
 * Which reason names a refusal when several apply: what the analyzer could not read first, then
 * guardrails (they say what is dangerous), then missing grants, then approval triggers.
 */
export function reasonRank(rule: string): number {
  if (rule === 'guardrail.parse_error' || rule === 'guardrail.too_deep') return 0;
  if (rule === 'guardrail.unknown_node') return 1;
  if (rule.startsWith('policy.')) return 2;
  if (rule.startsWith('guardrail.')) return 3;
  if (rule.startsWith('access.')) return 4;
  if (rule.startsWith('approval.')) return 5;
  return 6;
}

function validUntilOf(decision: Decision, nowMs: number): number {
  // A cached decision lives at most a minute, and never past the instant a grant or approval changes.
  const horizon = nowMs + 60_000;
  const until = decision.valid_until;
  if (until === null || until === undefined) return horizon;
  const t = Date.parse(until);
  return Number.isNaN(t) ? nowMs : Math.min(horizon, t);
}

/**
 * The decision cache key, or null when the statement's decision may depend on its literals. Everything
 * the policy reads besides the statement's literal-free shape is part of the key.
 */
function cacheKeyOf(
  revision: string,
  statement: AnalyzedStatement,
  ctx: JudgeContext,
): string | null {
  if (statement.cacheKey === null) return null;
  const id = ctx.identity;
  return [
    revision,
    id.sub,
    id.issuer,
    id.via,
    id.groups.join('\u0001'),
    ctx.database,
    ctx.applicationName,
    ctx.inTransaction ? 'T' : 'I',
    statement.facts.index,
    statement.facts.count,
    statement.cacheKey,
  ].join('\u0000');
}

export function inputOf(
  statement: AnalyzedStatement,
  ctx: JudgeContext,
  nowMs: number,
): PolicyInput {
  return {
    identity: {
      sub: ctx.identity.sub,
      groups: ctx.identity.groups,
      issuer: ctx.identity.issuer,
      via: ctx.identity.via,
    },
    session: {
      id: ctx.sessionId,
      database: ctx.database,
      application_name: ctx.applicationName,
      client_addr: ctx.clientAddr,
      search_path: ctx.searchPath,
      in_transaction: ctx.inTransaction,
    },
    now: new Date(Math.floor(nowMs / 1000) * 1000).toISOString(),
    statement: statement.facts,
  };
}
