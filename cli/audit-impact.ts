// `pgward policy impact --bundle <dir> --since 7d`: judges the recorded policy inputs (each statement's
// facts with its identity, session and time) with a candidate bundle, exactly as the gateway's judge
// folds a request, and prints the statements whose outcome would change, grouped and counted.

import { parseArgs } from 'node:util';
import { listStatements, MAX_PAGE } from '../audit/queries.js';
import type { AuditOutcome, StatementRecord } from '../audit/record.js';
import type { AuditSink } from '../audit/sink.js';
import { loadBundle } from '../policy/bundle/load.js';
import type { Outcome, PolicyInput } from '../policy/contracts.js';
import { createEvaluator } from '../policy/decider/evaluator.js';
import { policyValidators } from '../policy/schemas.js';
import type { AnalyzedStatement } from '../proxy/analyzer/facts.js';
import { createJudge, inputOf, type JudgeContext, type Verdict } from '../proxy/decider/judge.js';
import { type CommandIo, openStore, STORE_OPTIONS, STORE_USAGE, stdio } from './audit-store.js';

export const POLICY_IMPACT_USAGE = `usage: pgward policy impact --bundle <built bundle dir> [--since 7d] [store] [--json] [--max <n>] [--fail-on-change]
  Judges the statements recorded since then with the candidate bundle and prints each change of
  outcome: fingerprint, identity, old -> new, count. --since: <n>s|m|h|d or an ISO time.
  Inputs are as recorded: literals are not (normalized text), settings values are redacted, the
  session's search_path and transaction state are not kept, and EXPLAIN row estimates are not re-run.
${STORE_USAGE}
`;

export interface ImpactChange {
  readonly fingerprint: string;
  readonly identity: string;
  readonly old: Outcome;
  readonly new: Outcome;
  readonly count: number;
  readonly statement: string;
  readonly rules: readonly string[];
}

export interface ImpactReport {
  readonly revision: string;
  readonly since: string;
  readonly judged: number;
  readonly unjudged: number;
  readonly truncated: boolean;
  readonly changes: readonly ImpactChange[];
}

/** The policy outcome a record shows: an allowed statement that failed in PostgreSQL was still allowed. */
export function recordedOutcome(r: StatementRecord): Outcome {
  const o: AuditOutcome = r.outcome;
  if (o !== 'error') return o;
  return r.masked_columns.length > 0 ? 'masked' : 'allowed';
}

export function parseSince(text: string, nowMs: number): string {
  const m = /^(\d{1,6})([smhd])$/.exec(text);
  if (m !== null) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(nowMs - Number(m[1]) * unit * 1000).toISOString();
  }
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Error(`--since ${text} is neither a duration (7d) nor a time`);
  return new Date(t).toISOString();
}

/** The statements of one request: same session and time, statement_index 0, 1, … in seq order. */
export function groupRequests(records: readonly StatementRecord[]): StatementRecord[][] {
  const sorted = [...records].sort((a, b) =>
    a.session_id === b.session_id ? a.seq - b.seq : a.session_id < b.session_id ? -1 : 1,
  );
  const out: StatementRecord[][] = [];
  for (const r of sorted) {
    const last = out[out.length - 1]?.at(-1);
    const continues =
      last !== undefined &&
      last.session_id === r.session_id &&
      last.ts === r.ts &&
      last.seq === r.seq - 1 &&
      r.statement_index === last.statement_index + 1;
    if (continues) out[out.length - 1]!.push(r);
    else out.push([r]);
  }
  return out;
}

const validate = policyValidators().input;

/** The statement as the judge sees it, or null when its recorded facts do not form a policy input. */
function analyzed(r: StatementRecord, ctx: JudgeContext): AnalyzedStatement | null {
  if (r.facts === null) return null;
  const statement = {
    facts: r.facts as unknown as AnalyzedStatement['facts'],
    outputs: null,
    text: r.statement,
    normalized: r.statement,
    effects: [],
    cacheKey: null,
  } satisfies AnalyzedStatement;
  const input: PolicyInput = inputOf(statement, ctx, Date.parse(r.ts));
  return validate(input) ? statement : null;
}

/** Judges statements of one request as of `atMs` (the gateway's judge with the candidate bundle). */
export type JudgeAt = (
  statements: readonly AnalyzedStatement[],
  ctx: JudgeContext,
  atMs: number,
) => Verdict;

/** Judges every request again; returns the changed statements and how many could not be judged. */
export function judgeAgain(judgeAt: JudgeAt, records: readonly StatementRecord[]) {
  const changed: { record: StatementRecord; now: Outcome; rules: string[] }[] = [];
  let unjudged = 0;
  for (const request of groupRequests(records)) {
    const r0 = request[0]!;
    const ctx: JudgeContext = {
      identity: {
        sub: r0.identity_sub,
        groups: r0.identity_groups,
        issuer: r0.identity_issuer,
        via: r0.identity_via,
        expiresAt: null,
      },
      sessionId: r0.session_id,
      database: r0.database,
      applicationName: r0.application_name,
      clientAddr: r0.client_addr,
      searchPath: [],
      inTransaction: false,
    };
    const statements = request.map((r) => analyzed(r, ctx));
    if (statements.some((s) => s === null)) {
      unjudged += request.length;
      continue;
    }
    // Each request is judged at the time it was recorded: grants and approvals expire.
    const verdict = judgeAt(statements as AnalyzedStatement[], ctx, Date.parse(r0.ts));
    request.forEach((r, i) => {
      const own = verdict.decisions[i]!;
      const now: Outcome = verdict.allow ? own.outcome : verdict.outcome;
      if (now === recordedOutcome(r)) return;
      const rules = verdict.allow
        ? own.reasons.map((x) => x.rule)
        : [verdict.denial?.rule ?? 'policy.denied'];
      changed.push({ record: r, now, rules });
    });
  }
  return { changed, unjudged };
}

export async function policyImpact(
  sink: AuditSink,
  bundleDir: string,
  options: { readonly since: string; readonly max: number },
): Promise<ImpactReport> {
  const bundle = await loadBundle(bundleDir);
  if (!bundle.ok) throw new Error(`${bundle.code}: ${bundle.message}`);
  const evaluator = await createEvaluator(bundle);
  if (evaluator.failure !== null)
    throw new Error(`${evaluator.failure.code}: ${evaluator.failure.message}`);
  const records: StatementRecord[] = [];
  let cursor: string | null = null;
  let truncated = false;
  do {
    const page = await listStatements(
      sink,
      { from: options.since },
      { limit: MAX_PAGE, ...(cursor !== null ? { cursor } : {}) },
    );
    records.push(...page.items);
    cursor = page.next;
    if (records.length >= options.max && cursor !== null) {
      truncated = true;
      break;
    }
  } while (cursor !== null);
  let clock = 0;
  const judge = createJudge({
    source: { current: () => evaluator },
    now: () => clock,
    cacheSize: 0,
  });
  const { changed, unjudged } = judgeAgain((statements, ctx, atMs) => {
    clock = atMs;
    return judge.judge(statements, ctx);
  }, records);
  const groups = new Map<string, ImpactChange>();
  for (const c of changed) {
    const r = c.record;
    const old = recordedOutcome(r);
    const key = [r.fingerprint, r.identity_sub, old, c.now].join('\u0000');
    const seen = groups.get(key);
    groups.set(key, {
      fingerprint: r.fingerprint,
      identity: r.identity_sub,
      old,
      new: c.now,
      count: (seen?.count ?? 0) + 1,
      statement: seen?.statement ?? r.statement,
      rules: [...new Set([...(seen?.rules ?? []), ...c.rules])],
    });
  }
  return {
    revision: evaluator.revision,
    since: options.since,
    judged: records.length - unjudged,
    unjudged,
    truncated,
    changes: [...groups.values()].sort(
      (a, b) => b.count - a.count || a.fingerprint.localeCompare(b.fingerprint),
    ),
  };
}

function printReport(io: CommandIo, report: ImpactReport): void {
  io.out(
    `candidate bundle ${report.revision}: ${report.judged} statements since ${report.since} judged again${
      report.unjudged > 0 ? `, ${report.unjudged} without judgeable facts skipped` : ''
    }${report.truncated ? ' (truncated at --max: the oldest were not read)' : ''}\n`,
  );
  if (report.changes.length === 0) {
    io.out('no outcome would change\n');
    return;
  }
  const total = report.changes.reduce((n, c) => n + c.count, 0);
  io.out(`${total} statement(s) would change outcome:\n`);
  io.out(
    `  ${'fingerprint'.padEnd(18)} ${'identity'.padEnd(20)} ${'old -> new'.padEnd(32)} count  statement\n`,
  );
  for (const c of report.changes) {
    const move = `${c.old} -> ${c.new}`;
    io.out(
      `  ${c.fingerprint.padEnd(18)} ${c.identity.padEnd(20)} ${move.padEnd(32)} ${String(c.count).padEnd(6)} ${c.statement.replace(/\s+/g, ' ')}  [${c.rules.join(', ')}]\n`,
    );
  }
}

/** `pgward policy impact …` (the leading `impact` may be included or not). */
export async function policyImpactCommand(
  args: string[],
  env: NodeJS.ProcessEnv,
  io: CommandIo = stdio,
  now: () => number = Date.now,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args[0] === 'impact' ? args.slice(1) : args);
  } catch (err) {
    io.err(`pgward policy impact: ${(err as Error).message}\n${POLICY_IMPACT_USAGE}`);
    return 2;
  }
  const { values } = parsed;
  if (values.bundle === undefined || parsed.positionals.length > 0) {
    io.err(`pgward policy impact: --bundle <dir> is required\n${POLICY_IMPACT_USAGE}`);
    return 2;
  }
  let since: string;
  const max = Number(values.max ?? 1_000_000);
  try {
    since = parseSince(values.since ?? '7d', now());
    if (!Number.isInteger(max) || max < 1) throw new Error('--max must be a positive integer');
  } catch (err) {
    io.err(`pgward policy impact: ${(err as Error).message}\n`);
    return 2;
  }
  const store = openStore(values, env);
  if (!store.ok) {
    io.err(`pgward policy impact: ${store.message}\n`);
    return 2;
  }
  try {
    const report = await policyImpact(store.sink, values.bundle, { since, max });
    if (values.json === true) io.out(`${JSON.stringify(report, null, 2)}\n`);
    else printReport(io, report);
    return values['fail-on-change'] === true && report.changes.length > 0 ? 1 : 0;
  } catch (err) {
    io.err(`pgward policy impact: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await store.sink.close();
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      ...STORE_OPTIONS,
      bundle: { type: 'string' },
      since: { type: 'string' },
      max: { type: 'string' },
      json: { type: 'boolean' },
      'fail-on-change': { type: 'boolean' },
    },
    allowPositionals: true,
  });
}
