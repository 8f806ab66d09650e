// Judges the statements of one request: builds the policy input for each, evaluates the serving bundle
// (through a bounded cache where that cannot change an outcome), and folds the decisions into one verdict.

import type { Decision, PolicyInput } from '../../policy/contracts.js';
import type { AnalyzedStatement } from '../analyzer/facts.js';
import type { Identity } from '../auth/authenticator.js';
import { type CacheEntry, createDecisionCache } from './decision-cache.js';

/** The serving policy; `current()` is null while no valid bundle exists (then everything is denied). */
export interface PolicySource {
  current(): PolicyEngine | null;
}

export interface PolicyEngine {
  readonly revision: string;
  evaluate(input: PolicyInput): Decision;
  /** The same for the input's JSON text (see inputJson); engines without it get the object. */
  evaluateJson?(json: string): Decision;
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

/**
 * The session part of the decision cache key (bundle revision, identity, database, application), built
 * once per identity and bundle instead of for every statement. Identities are immutable.
 */
interface Scope {
  readonly revision: string;
  readonly database: string;
  readonly applicationName: string;
  readonly idle: string;
  readonly inTransaction: string;
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

const noBundle = (): Decision => NO_BUNDLE;

export function createJudge(options: JudgeOptions): Judge {
  const cache = createDecisionCache(options.cacheSize);
  const scopes = new WeakMap<Identity, Scope>();

  /**
   * The session part of a cache key: everything the policy reads besides the statement's literal-free
   * shape (which is the rest of the key).
   */
  const scopeOf = (revision: string, ctx: JudgeContext): string => {
    const id = ctx.identity;
    let scope = scopes.get(id);
    if (
      scope === undefined ||
      scope.revision !== revision ||
      scope.database !== ctx.database ||
      scope.applicationName !== ctx.applicationName
    ) {
      const base = [
        revision,
        id.sub,
        id.issuer,
        id.via,
        id.groups.join('\u0001'),
        ctx.database,
        ctx.applicationName,
      ].join('\u0000');
      scope = {
        revision,
        database: ctx.database,
        applicationName: ctx.applicationName,
        idle: `${base}\u0000I`,
        inTransaction: `${base}\u0000T`,
      };
      scopes.set(id, scope);
    }
    return ctx.inTransaction ? scope.inTransaction : scope.idle;
  };

  /** The live cache entry for the statement; none when its decision may depend on its literals. */
  const cached = (
    scope: string,
    statement: AnalyzedStatement,
    nowMs: number,
  ): CacheEntry | undefined => {
    const shape = statement.cacheKey;
    if (shape === null) return undefined;
    const { facts } = statement;
    return cache.get(scope, shape, facts.index, facts.count, nowMs, facts.estimated_rows);
  };

  const evaluate = (
    engine: PolicyEngine,
    statement: AnalyzedStatement,
    ctx: JudgeContext,
    nowMs: number,
    scope: string,
  ): Decision => {
    const decision =
      engine.evaluateJson === undefined
        ? engine.evaluate(inputOf(statement, ctx, nowMs))
        : engine.evaluateJson(inputJson(statement, ctx, nowMs));
    // SECURITY: a decision that involved an approval depends on the exact text (sha256): never shared.
    const shape = statement.cacheKey;
    if (shape !== null && decision.approval.id === null && !decision.approval.required) {
      cache.set(scope, shape, {
        decision,
        validUntil: validUntilOf(decision, nowMs),
        index: statement.facts.index,
        count: statement.facts.count,
        estimatedRows: statement.facts.estimated_rows,
        single: null,
      });
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
      // SECURITY: no bundle, no statement allowed.
      if (engine === null) return fold(statements.map(noBundle), null);
      const scope = scopeOf(engine.revision, ctx);
      if (statements.length === 1) {
        // The common request, one statement whose decision is cached: its verdict is folded once.
        const statement = statements[0]!;
        const hit = cached(scope, statement, nowMs);
        if (hit === undefined)
          return fold([evaluate(engine, statement, ctx, nowMs, scope)], engine.revision);
        hit.single ??= fold([hit.decision], engine.revision);
        return hit.single;
      }
      const decisions: Decision[] = [];
      for (const s of statements) {
        const hit = cached(scope, s, nowMs);
        decisions.push(hit?.decision ?? evaluate(engine, s, ctx, nowMs, scope));
      }
      return fold(decisions, engine.revision);
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

export function inputOf(
  statement: AnalyzedStatement,
  ctx: JudgeContext,
  nowMs: number,
): PolicyInput {
  return {
    identity: identityOf(ctx),
    session: sessionOf(ctx),
    now: nowText(nowMs),
    statement: statement.facts,
  };
}

const identityOf = (ctx: JudgeContext): PolicyInput['identity'] => ({
  sub: ctx.identity.sub,
  groups: ctx.identity.groups,
  issuer: ctx.identity.issuer,
  via: ctx.identity.via,
});

const sessionOf = (ctx: JudgeContext): PolicyInput['session'] => ({
  id: ctx.sessionId,
  database: ctx.database,
  application_name: ctx.applicationName,
  client_addr: ctx.clientAddr,
  search_path: ctx.searchPath,
  in_transaction: ctx.inTransaction,
});

/** The start of the input's JSON text up to `"now":`, per context (a session's changes only with it). */
const inputPrefixes = new WeakMap<JudgeContext, string>();

/**
 * The JSON text of inputOf(statement, ctx, nowMs), key for key: the identity and session, which hold
 * for a whole session, are serialized once per context object (contexts are never changed).
 */
export function inputJson(statement: AnalyzedStatement, ctx: JudgeContext, nowMs: number): string {
  let prefix = inputPrefixes.get(ctx);
  if (prefix === undefined) {
    prefix = `{"identity":${JSON.stringify(identityOf(ctx))},"session":${JSON.stringify(sessionOf(ctx))},"now":`;
    inputPrefixes.set(ctx, prefix);
  }
  return `${prefix}"${nowText(nowMs)}","statement":${JSON.stringify(statement.facts)}}`;
}

let lastSecond = Number.NaN;
let lastNowText = '';

/** `now` for the policy: UTC, truncated to the second (ISO 8601, as toISOString writes it). */
function nowText(nowMs: number): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== lastSecond) {
    lastNowText = new Date(second * 1000).toISOString();
    lastSecond = second;
  }
  return lastNowText;
}
