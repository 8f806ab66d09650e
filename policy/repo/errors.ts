// Faults of the policy repository tooling (init, request, publish, prune, git host): one Error class
// with a literal code. A rejected bundle at the gateway is a result value, never one of these.
// TODO(lib owner): fold these codes into lib/errors.ts ERROR_CODES and docs/errors.md.

import type { PolicyProblem } from '../contracts.js';

export const POLICY_REPO_ERROR_CODES = [
  /** A git command failed or timed out (the message carries git's own words). */
  'PGW_REPO_GIT_FAILED',
  /** `pgward policy init` would overwrite an existing, non-empty directory. */
  'PGW_REPO_INIT_REFUSED',
  /** A grant request is malformed or the grant it produces is invalid (listed in `problems`). */
  'PGW_REPO_REQUEST_INVALID',
  /** The bundle to publish is missing or does not verify. */
  'PGW_REPO_BUNDLE_INVALID',
  /** The git host (GitHub REST API) refused or failed a request. */
  'PGW_REPO_GIT_HOST_FAILED',
] as const;

export type PolicyRepoErrorCode = (typeof POLICY_REPO_ERROR_CODES)[number];

export class PolicyRepoError extends Error {
  readonly code: PolicyRepoErrorCode;
  readonly problems: readonly PolicyProblem[];

  constructor(
    code: PolicyRepoErrorCode,
    message: string,
    options: { cause?: unknown; problems?: readonly PolicyProblem[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = 'PolicyRepoError';
    this.problems = options.problems ?? [];
  }
}
