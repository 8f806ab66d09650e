// `pgward policy check-grants`: the grant rules CI enforces on a pull request, beyond the schemas —
// every source problem (schemas, file naming, maximum lifetime; policy/bundle/source.ts), the id
// naming rule, and a dry run: each live grant's own objects and actions are evaluated by the
// compiled policy, which must find the grant covering them.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assertNever } from '../../lib/errors.js';
import { buildBundle } from '../bundle/build.js';
import { loadBundle } from '../bundle/load.js';
import { readPolicySource } from '../bundle/source.js';
import type { Decision, Grant, PolicyInput, PolicyProblem } from '../contracts.js';
import { createEvaluator } from '../decider/evaluator.js';
import { PolicyError } from '../errors.js';

export interface CheckGrantsOptions {
  readonly opaPath: string;
  readonly now: Date;
  readonly opaTimeoutMs?: number;
}

export interface DryRunCase {
  readonly grant: string;
  /** `select public.orders`. */
  readonly case: string;
  readonly outcome: Decision['outcome'];
  readonly rules: readonly string[];
  readonly ok: boolean;
}

export interface CheckGrantsResult {
  readonly ok: boolean;
  readonly grants: number;
  readonly problems: readonly PolicyProblem[];
  /** Not failures: expired grants (the prune workflow removes them), unusable actions. */
  readonly warnings: readonly PolicyProblem[];
  readonly dryRun: readonly DryRunCase[];
}

/** Revision stamped on the throwaway dry-run bundle. */
const DRY_RUN_REVISION = '0'.repeat(40);
const DRY_RUN_SUB = 'dry-run@pgward.invalid';

export async function checkGrants(
  sourceDir: string,
  options: CheckGrantsOptions,
): Promise<CheckGrantsResult> {
  const source = await readPolicySource(sourceDir);
  const problems: PolicyProblem[] = [...source.problems];
  const warnings: PolicyProblem[] = [];
  const grants = (Array.isArray(source.data.grants) ? source.data.grants : []) as Grant[];
  const nowMs = options.now.getTime();

  for (const g of grants) {
    const file = `grants/${g.id}.json`;
    if (!g.id.startsWith(`${g.not_before.slice(0, 10)}-`)) {
      problems.push({
        file,
        pointer: '/id',
        message: `must start with the UTC date of not_before (${g.not_before.slice(0, 10)}-…)`,
      });
    }
    if (Date.parse(g.expires_at) <= nowMs)
      warnings.push({ file, pointer: '/expires_at', message: 'has expired; prune removes it' });
  }

  const live = grants.filter((g) => Date.parse(g.expires_at) > nowMs);
  const dryRun: DryRunCase[] = [];
  if (problems.length === 0 && live.length > 0) {
    for (const result of await dryRunGrants(sourceDir, live, options, warnings)) {
      dryRun.push(result);
      if (!result.ok) {
        problems.push({
          file: `grants/${result.grant}.json`,
          pointer: '/objects',
          message: `dry run of ${result.case} is ${result.outcome} by ${result.rules.join(', ') || 'no rule'}, not covered by this grant`,
        });
      }
    }
  }
  return { ok: problems.length === 0, grants: grants.length, problems, warnings, dryRun };
}

async function dryRunGrants(
  sourceDir: string,
  grants: readonly Grant[],
  options: CheckGrantsOptions,
  warnings: PolicyProblem[],
): Promise<DryRunCase[]> {
  const work = await mkdtemp(path.join(tmpdir(), 'pgward-dry-run-'));
  try {
    await buildBundle({
      sourceDir,
      outDir: work,
      opaPath: options.opaPath,
      revision: DRY_RUN_REVISION,
      ...(options.opaTimeoutMs !== undefined ? { opaTimeoutMs: options.opaTimeoutMs } : {}),
    });
    const bundle = await loadBundle(work);
    if (!bundle.ok) throw new PolicyError('PGW_POLICY_BUNDLE_UNREADABLE', bundle.message);
    const evaluator = await createEvaluator(bundle);
    if (evaluator.failure !== null)
      throw new PolicyError('PGW_POLICY_WASM_REJECTED', evaluator.failure.message);
    const out: DryRunCase[] = [];
    for (const g of grants) {
      for (const c of grantCases(g, warnings)) {
        const decision = evaluator.evaluate(c.input);
        const rules = decision.reasons.filter((r) => r.enforce !== false).map((r) => r.rule);
        // Guardrails and approval triggers may still stop a covered statement: that is policy,
        // not a defect of the grant. What must not happen is a missing grant or a policy fault.
        const ok =
          decision.grant_ids.includes(g.id) &&
          !rules.some((r) => r.startsWith('access.') || r.startsWith('policy.'));
        out.push({ grant: g.id, case: c.name, outcome: decision.outcome, rules, ok });
      }
    }
    return out;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

interface GrantCase {
  readonly name: string;
  readonly input: PolicyInput;
}

/** A statement's facts as the analyzer would produce them, with fixed digests. */
function facts(
  command: string,
  over: Partial<PolicyInput['statement']> = {},
): PolicyInput['statement'] {
  return {
    sha256: '0'.repeat(64),
    fingerprint: 'dry-run',
    index: 0,
    count: 1,
    command,
    reads: [],
    writes: [],
    functions: [],
    flags: [],
    estimated_rows: null,
    ...over,
  };
}

/** One statement per object and action, and per named function, inside the grant's window. */
function grantCases(g: Grant, warnings: PolicyProblem[]): GrantCase[] {
  const base = {
    identity: {
      sub: 'sub' in g.subject ? g.subject.sub : DRY_RUN_SUB,
      groups: 'group' in g.subject ? [g.subject.group] : [],
      issuer: 'https://dry-run.pgward.invalid',
      via: 'credential' as const,
    },
    session: { id: 'dry-run', database: g.database, application_name: 'pgward-dry-run' },
    now: `${g.not_before.slice(0, 19)}.000Z`,
  };
  const cases: GrantCase[] = [];
  const add = (name: string, statement: PolicyInput['statement']) =>
    cases.push({ name, input: { ...base, statement } });
  for (const o of g.objects) {
    const rel = {
      schema: o.schema === '*' ? 'dry_run_schema' : o.schema,
      table: o.table === '*' ? 'dry_run_table' : o.table,
    };
    const read = { ...rel, columns: ['*'] };
    for (const action of o.actions) {
      const name = `${action} ${o.schema}.${o.table}`;
      switch (action) {
        case 'select':
          add(name, facts('SELECT', { reads: [read] }));
          break;
        case 'insert':
        case 'truncate':
          add(
            name,
            facts(action.toUpperCase(), { writes: [{ ...rel, action, has_where: false }] }),
          );
          break;
        case 'update':
        case 'delete':
          add(name, facts(action.toUpperCase(), { writes: [{ ...rel, action, has_where: true }] }));
          break;
        case 'copy':
          if (o.actions.includes('select')) {
            add(name, facts('COPY', { reads: [read], flags: ['copy_to_stdout'] }));
          } else if (o.actions.includes('insert')) {
            const write = { ...rel, action: 'copy_from' as const, has_where: false };
            add(name, facts('COPY', { writes: [write], flags: ['copy_from_stdin'] }));
          } else {
            warnings.push({
              file: `grants/${g.id}.json`,
              pointer: '/objects',
              message: `copy on ${o.schema}.${o.table} needs select (COPY TO) or insert (COPY FROM) too`,
            });
          }
          break;
        default:
          assertNever(action, 'grant action');
      }
    }
  }
  for (const f of g.functions ?? []) {
    if (!f.endsWith('.*')) add(`call ${f}`, facts('SELECT', { functions: [f] }));
  }
  return cases;
}
