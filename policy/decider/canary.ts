// Runs a bundle's canaries (inputs with the decision they must produce) through an evaluator:
// the build checks a new bundle with them, and the gateway re-checks before swapping it in.

import type { CanaryCase, Decision } from '../contracts.js';
import type { Evaluator } from './evaluator.js';

export interface CanaryFailure {
  readonly name: string;
  readonly problems: readonly string[];
  /** null when the bundle itself did not load. */
  readonly decision: Decision | null;
}

export type CanaryResult =
  | { readonly ok: true; readonly passed: number }
  | { readonly ok: false; readonly passed: number; readonly failures: readonly CanaryFailure[] };

export function runCanaries(
  evaluator: Pick<Evaluator, 'evaluate' | 'failure'>,
  cases: readonly CanaryCase[],
): CanaryResult {
  // A bundle that does not load fails its canaries even when they all expect "blocked".
  if (evaluator.failure !== null) {
    const failures = [{ name: '(bundle)', problems: [evaluator.failure.message], decision: null }];
    return { ok: false, passed: 0, failures };
  }
  const failures: CanaryFailure[] = [];
  for (const c of cases) {
    const decision = evaluator.evaluate(c.input);
    const problems = canaryProblems(c, decision);
    if (problems.length > 0) failures.push({ name: c.name, problems, decision });
  }
  const passed = cases.length - failures.length;
  return failures.length === 0 ? { ok: true, passed } : { ok: false, passed, failures };
}

function canaryProblems(c: CanaryCase, d: Decision): string[] {
  const problems: string[] = [];
  const rules = new Set(d.reasons.map((r) => r.rule));
  if (d.outcome !== c.expect.outcome) {
    problems.push(`outcome is ${d.outcome}, expected ${c.expect.outcome}`);
  }
  for (const rule of c.expect.rules ?? []) {
    if (!rules.has(rule)) problems.push(`reason ${rule} is missing`);
  }
  if (rules.has('policy.error') && !(c.expect.rules ?? []).includes('policy.error')) {
    problems.push(
      `the policy failed: ${d.reasons.find((r) => r.rule === 'policy.error')?.message}`,
    );
  }
  if (c.expect.mask !== undefined && !sameMask(c.expect.mask, d.mask)) {
    problems.push(`mask is ${JSON.stringify(d.mask)}, expected ${JSON.stringify(c.expect.mask)}`);
  }
  return problems;
}

function sameMask(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
