// Builders for the backend messages pgward itself sends to clients.
// @see https://www.postgresql.org/docs/current/protocol-message-formats.html

const AUTH_OK = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);
const AUTH_CLEARTEXT = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]);
const SSL_YES = Buffer.from('S');
const SSL_NO = Buffer.from('N');

export const TransactionStatus = { idle: 0x49, inTransaction: 0x54, failed: 0x45 } as const;
export type TransactionStatus = (typeof TransactionStatus)[keyof typeof TransactionStatus];

export const authenticationOk = (): Buffer => AUTH_OK;
export const authenticationCleartextPassword = (): Buffer => AUTH_CLEARTEXT;
export const sslAccepted = (): Buffer => SSL_YES;
export const sslRefused = (): Buffer => SSL_NO;

export function parameterStatus(name: string, value: string): Buffer {
  const n = Buffer.byteLength(name);
  const v = Buffer.byteLength(value);
  const out = Buffer.allocUnsafe(1 + 4 + n + 1 + v + 1);
  out[0] = 0x53;
  out.writeInt32BE(4 + n + 1 + v + 1, 1);
  out.write(name, 5);
  out[5 + n] = 0;
  out.write(value, 6 + n);
  out[6 + n + v] = 0;
  return out;
}

export function backendKeyData(pid: number, secret: number): Buffer {
  const out = Buffer.allocUnsafe(13);
  out[0] = 0x4b;
  out.writeInt32BE(12, 1);
  out.writeInt32BE(pid, 5);
  out.writeInt32BE(secret, 9);
  return out;
}

export function readyForQuery(status: TransactionStatus): Buffer {
  return Buffer.from([0x5a, 0, 0, 0, 5, status]);
}

export type Severity = 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE' | 'INFO' | 'LOG';

export interface ErrorFields {
  severity: Severity;
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

/** ErrorResponse ('E') or NoticeResponse ('N') with the S, V, C, M, D and H fields. */
export function errorOrNotice(type: 'E' | 'N', fields: ErrorFields): Buffer {
  const parts: [string, string][] = [
    ['S', fields.severity],
    ['V', fields.severity],
    ['C', fields.code],
    ['M', fields.message],
  ];
  if (fields.detail !== undefined) parts.push(['D', fields.detail]);
  if (fields.hint !== undefined) parts.push(['H', fields.hint]);
  let size = 4 + 1;
  for (const [, v] of parts) size += 1 + Buffer.byteLength(v) + 1;
  const out = Buffer.allocUnsafe(1 + size);
  out[0] = type.charCodeAt(0);
  out.writeInt32BE(size, 1);
  let pos = 5;
  for (const [k, v] of parts) {
    out[pos++] = k.charCodeAt(0);
    pos += out.write(v, pos);
    out[pos++] = 0;
  }
  out[pos] = 0;
  return out;
}

/** NegotiateProtocolVersion ('v'): the newest minor version served and the options not recognised. */
export function negotiateProtocolVersion(
  newestMinor: number,
  unrecognised: readonly string[],
): Buffer {
  let size = 4 + 4 + 4;
  for (const o of unrecognised) size += Buffer.byteLength(o) + 1;
  const out = Buffer.allocUnsafe(1 + size);
  out[0] = 0x76;
  out.writeInt32BE(size, 1);
  out.writeInt32BE(newestMinor, 5);
  out.writeInt32BE(unrecognised.length, 9);
  let pos = 13;
  for (const o of unrecognised) {
    pos += out.write(o, pos);
    out[pos++] = 0;
  }
  return out;
}
