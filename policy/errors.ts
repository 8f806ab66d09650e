// Faults of the policy toolchain (build, test): one Error class with a literal code and, for an
// invalid source, every problem at once. Outcomes of evaluation are Decisions, never these.
// TODO(lib owner): fold these codes into lib/errors.ts ERROR_CODES and docs/errors.md.

import type { PolicyProblem } from './contracts.js';

export const POLICY_ERROR_CODES = [
  /** The policy source has schema or rule problems (listed in `problems`). */
  'PGW_POLICY_SOURCE_INVALID',
  /** `opa` could not be run or exited non-zero. */
  'PGW_POLICY_OPA_FAILED',
  /** The bundle opa produced could not be read (not gzip, not ustar, too large, files missing). */
  'PGW_POLICY_BUNDLE_UNREADABLE',
  /** The compiled policy does not load in the gateway's evaluator. */
  'PGW_POLICY_WASM_REJECTED',
  /** A canary's decision differs from its expectation. */
  'PGW_POLICY_CANARY_FAILED',
] as const;

export type PolicyErrorCode = (typeof POLICY_ERROR_CODES)[number];

export class PolicyError extends Error {
  readonly code: PolicyErrorCode;
  readonly problems: readonly PolicyProblem[];

  constructor(
    code: PolicyErrorCode,
    message: string,
    options: { cause?: unknown; problems?: readonly PolicyProblem[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = 'PolicyError';
    this.problems = options.problems ?? [];
  }
}

/** `file` + JSON pointer + message, one problem per line, as a human reads them in CI. */
export function formatProblems(problems: readonly PolicyProblem[]): string {
  return problems
    .map((p) => `${p.file}${p.pointer === '' ? '' : `#${p.pointer}`}: ${p.message}`)
    .join('\n');
}
