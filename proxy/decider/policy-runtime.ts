// Loads what the gate needs once per process: the libpg-query analyzer and the serving policy bundle.
// A bundle that does not load or fails its canaries is refused: the gateway does not start on it.

import path from 'node:path';
import { PgwardError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { loadBundle } from '../../policy/bundle/load.js';
import { runCanaries } from '../../policy/decider/canary.js';
import { createEvaluator, type Evaluator } from '../../policy/decider/evaluator.js';
import { createAnalyzer, loadAnalyzer } from '../analyzer/analyzer.js';
import type { StatementAnalyzer } from '../session/gate.js';
import type { PolicySource } from './judge.js';

export interface PolicySettings {
  readonly bundleDir: string;
  readonly maxMemoryPages: number;
  readonly analyzerCacheSize: number;
}

/** A policy source whose serving evaluator can be swapped atomically (by a bundle pull). */
export interface SwappablePolicySource extends PolicySource {
  swap(next: Evaluator, data?: unknown): void;
  /** The serving bundle's data document (grants, approvals, rules), or null. */
  readonly data: unknown;
  readonly revision: string | null;
}

export function createPolicySource(
  initial: Evaluator | null,
  onSwap: () => void = () => {},
): SwappablePolicySource {
  let serving = initial;
  let data: unknown = null;
  return {
    current: () => serving,
    swap(next, nextData) {
      serving = next;
      data = nextData ?? null;
      onSwap();
    },
    get data() {
      return data;
    },
    get revision() {
      return serving?.revision ?? null;
    },
  };
}

/** Loads, verifies and canary-checks a bundle directory into an evaluator, or throws a clear error. */
export async function loadEvaluator(
  dir: string,
  maxMemoryPages: number,
  log: Logger,
): Promise<{ evaluator: Evaluator; data: unknown }> {
  const bundle = await loadBundle(path.resolve(dir));
  if (!bundle.ok) {
    throw new PgwardError(
      'PGW_POLICY_BUNDLE_INVALID',
      `policy bundle ${dir}: ${bundle.message} (${bundle.code})`,
    );
  }
  const evaluator = await createEvaluator(bundle, {
    maxMemoryPages,
    onFault: (fault) =>
      log.error('policy evaluation fault', { code: fault.code, message: fault.message }),
  });
  if (evaluator.failure !== null) {
    throw new PgwardError(
      'PGW_POLICY_BUNDLE_INVALID',
      `policy bundle ${dir}: ${evaluator.failure.message} (${evaluator.failure.code})`,
    );
  }
  const canaries = runCanaries(evaluator, bundle.canaries);
  if (!canaries.ok) {
    throw new PgwardError(
      'PGW_POLICY_BUNDLE_INVALID',
      `policy bundle ${dir}: canary checks failed: ${JSON.stringify(canaries.failures).slice(0, 500)}`,
    );
  }
  return { evaluator, data: bundle.data };
}

export async function createStatementAnalyzer(cacheSize: number): Promise<StatementAnalyzer> {
  await loadAnalyzer();
  return createAnalyzer({ cacheSize });
}
