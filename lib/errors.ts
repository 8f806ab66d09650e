// One error base for every fault pgward raises; codes are stable forever and listed in docs/errors.md.

export const ERROR_CODES = [
  'PGW_CONFIG_INVALID',
  'PGW_CONFIG_SECRET_UNRESOLVED',
  'PGW_WIRE_PROTOCOL_VIOLATION',
  'PGW_WIRE_MESSAGE_TOO_LARGE',
  'PGW_LISTENER_STARTUP_REFUSED',
  'PGW_AUTH_FAILED',
  'PGW_UPSTREAM_CONNECT_FAILED',
  'PGW_UPSTREAM_AUTH_FAILED',
  'PGW_UPSTREAM_TLS_FAILED',
  'PGW_UPSTREAM_PROTOCOL',
  'PGW_POLICY_BUNDLE_INVALID',
  'PGW_BUNDLE_CANARY_FAILED',
  'PGW_BUNDLE_CANARY_INVALID',
  'PGW_BUNDLE_DATA_INVALID',
  'PGW_BUNDLE_HASH_MISMATCH',
  'PGW_BUNDLE_MANIFEST_INVALID',
  'PGW_BUNDLE_MISSING_FILE',
  'PGW_BUNDLE_ROLLBACK',
  'PGW_BUNDLE_SIGNATURE_INVALID',
  'PGW_BUNDLE_TOO_LARGE',
  'PGW_BUNDLE_TREE_INVALID',
  'PGW_BUNDLE_UNREADABLE',
  'PGW_POLICY_ABI_UNSUPPORTED',
  'PGW_POLICY_BUNDLE_UNREADABLE',
  'PGW_POLICY_CANARY_FAILED',
  'PGW_POLICY_DATA_REJECTED',
  'PGW_POLICY_ENTRYPOINT_MISSING',
  'PGW_POLICY_EVAL_FAILED',
  'PGW_POLICY_HOST_BUILTINS',
  'PGW_POLICY_NO_RESULT',
  'PGW_POLICY_OPA_FAILED',
  'PGW_POLICY_OUTPUT_INVALID',
  'PGW_POLICY_SOURCE_INVALID',
  'PGW_POLICY_WASM_INVALID',
  'PGW_POLICY_WASM_REJECTED',
  'PGW_REPO_BUNDLE_INVALID',
  'PGW_REPO_GIT_FAILED',
  'PGW_REPO_GIT_HOST_FAILED',
  'PGW_REPO_INIT_REFUSED',
  'PGW_REPO_REQUEST_INVALID',
  'PGW_APPROVAL_LEDGER_UNAVAILABLE',
  'PGW_APPROVAL_LEDGER_WRITE',
  'PGW_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class PgwardError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'PgwardError';
  }
}

/** Wraps anything thrown into an Error, so `cause` chains never carry a non-Error. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}

export function assertNever(value: never, what = 'value'): never {
  throw new PgwardError('PGW_INTERNAL', `unexpected ${what}: ${String(value)}`);
}
