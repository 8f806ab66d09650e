// The only place that builds the errors a client can see. SECURITY: no message here ever names the
// upstream host, port, role or database, nor carries a stack.

import { errorOrNotice } from './backend-messages.js';

export interface ClientError {
  /** The ErrorResponse bytes. */
  readonly bytes: Buffer;
  /** FATAL errors end the connection after they are sent. */
  readonly fatal: boolean;
  readonly sqlstate: string;
  readonly message: string;
}

function make(fatal: boolean, code: string, message: string, hint?: string): ClientError {
  const fields = { severity: fatal ? ('FATAL' as const) : ('ERROR' as const), code, message };
  const bytes = errorOrNotice('E', hint === undefined ? fields : { ...fields, hint });
  return { bytes, fatal, sqlstate: code, message };
}

export const clientErrors = {
  protocolViolation: (detail: string) => make(true, '08P01', `protocol violation: ${detail}`),
  tooLarge: (detail: string) => make(true, '08P01', `message too large: ${detail}`),
  unsupportedProtocol: (major: number, minor: number) =>
    make(true, '0A000', `unsupported frontend protocol ${major}.${minor}: server supports 3.0`),
  startupParameterRefused: (name: string) =>
    make(
      true,
      '42501',
      `startup parameter "${name}" is not allowed by pgward`,
      'Remove it from the connection string or PGOPTIONS; session settings are governed by policy.',
    ),
  searchPathRefused: () =>
    make(
      true,
      '42501',
      'startup search_path is not allowed by pgward',
      'Use one of the search_path values the gateway is configured to allow.',
    ),
  replicationRefused: () =>
    make(true, '42501', 'replication connections are not allowed by pgward'),
  tlsRequired: () =>
    make(
      true,
      '28000',
      'pgward requires TLS for password authentication from this address',
      'Connect with sslmode=require or stronger.',
    ),
  authFailed: (user: string) =>
    make(true, '28P01', `password authentication failed for user "${user}"`),
  unknownDatabase: (name: string) => make(true, '3D000', `database "${name}" does not exist`),
  tooManyConnections: () => make(true, '53300', 'sorry, too many clients already'),
  loginTimeout: () => make(true, '08P01', 'login timeout expired'),
  idleTimeout: () => make(true, '57P05', 'terminating connection due to idle-session timeout'),
  adminShutdown: () => make(true, '57P01', 'terminating connection due to administrator command'),
  unavailable: () =>
    make(
      true,
      '08006',
      'the upstream database is unavailable',
      'Try again later; the gateway logged the cause.',
    ),
  upstreamLost: () => make(true, '08006', 'the upstream database connection was lost'),
  credentialForOtherDatabase: () =>
    make(
      true,
      '28000',
      'the pgward credential was not issued for this database',
      'Request a credential for the database named in the connection.',
    ),
  credentialExpired: () =>
    make(
      true,
      '28000',
      'terminating connection because the credential that opened it expired',
      'Obtain a fresh token or pgward credential and reconnect.',
    ),
  denied: (rule: string, message: string) =>
    make(false, '42501', `pgward: ${message} (rule ${rule})`),
  approvalRequired: (rule: string, message: string, requestId: string | null) =>
    make(
      false,
      '42501',
      `pgward: ${message} (rule ${rule})`,
      requestId === null
        ? 'This statement needs a human approval before it can run.'
        : `Approval request ${requestId} was filed; re-run the same statement once it is approved.`,
    ),
  functionCallDenied: () =>
    make(
      false,
      '42501',
      'pgward: the fast-path function call protocol is not allowed (rule protocol.function_call)',
    ),
  tooManyNamedObjects: () =>
    make(true, '54000', 'too many prepared statements or portals in this session'),
  internal: (sessionId: string) =>
    make(true, 'XX000', `internal error in pgward (session ${sessionId})`),
} as const;

export type ClientErrorName = keyof typeof clientErrors;
