// Backend message builders: exact bytes against the fluent builder, and decoded by an independent parser
// (pg-protocol, the one node-postgres uses).
import { Readable } from 'node:stream';
import { parse as pgParse } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { describe, expect, it } from 'vitest';
import { msg } from '../../test/harness/bytes.js';
import {
  authenticationCleartextPassword,
  authenticationOk,
  backendKeyData,
  errorOrNotice,
  parameterStatus,
  readyForQuery,
  sslAccepted,
  sslRefused,
  TransactionStatus,
} from './backend-messages.js';

async function decode(bytes: Buffer): Promise<BackendMessage[]> {
  const out: BackendMessage[] = [];
  await pgParse(Readable.from([bytes]), (m) => out.push(m));
  return out;
}

describe('backend messages: exact bytes', () => {
  it('authentication requests and the SSL answers', () => {
    expect(authenticationOk()).toEqual(msg('R').int32(0).build());
    expect(authenticationCleartextPassword()).toEqual(msg('R').int32(3).build());
    expect(sslAccepted()).toEqual(Buffer.from('S'));
    expect(sslRefused()).toEqual(Buffer.from('N'));
  });

  it('ParameterStatus, including multi-byte UTF-8 and empty values', () => {
    expect(parameterStatus('TimeZone', 'UTC')).toEqual(
      msg('S').cstring('TimeZone').cstring('UTC').build(),
    );
    expect(parameterStatus('application_name', 'zoë ✓')).toEqual(
      msg('S').cstring('application_name').cstring('zoë ✓').build(),
    );
    expect(parameterStatus('x', '')).toEqual(msg('S').cstring('x').cstring('').build());
  });

  it('BackendKeyData keeps signed 32-bit values', () => {
    expect(backendKeyData(0x12345678, -2)).toEqual(msg('K').int32(0x12345678).int32(-2).build());
  });

  it.each([
    ['idle', TransactionStatus.idle, 'I'],
    ['inTransaction', TransactionStatus.inTransaction, 'T'],
    ['failed', TransactionStatus.failed, 'E'],
  ])('ReadyForQuery %s', (_name, status, letter) => {
    expect(readyForQuery(status)).toEqual(msg('Z').string(letter).build());
  });

  it('ErrorResponse carries S, V, C, M then optional D and H, and a final NUL', () => {
    const bytes = errorOrNotice('E', {
      severity: 'FATAL',
      code: '28P01',
      message: 'password authentication failed',
      detail: 'd',
      hint: 'h',
    });
    const expected = msg('E')
      .string('S')
      .cstring('FATAL')
      .string('V')
      .cstring('FATAL')
      .string('C')
      .cstring('28P01')
      .string('M')
      .cstring('password authentication failed')
      .string('D')
      .cstring('d')
      .string('H')
      .cstring('h')
      .byte(0)
      .build();
    expect(bytes).toEqual(expected);
  });

  it('NoticeResponse without optional fields', () => {
    const bytes = errorOrNotice('N', { severity: 'NOTICE', code: '00000', message: 'ünïcode' });
    expect(bytes).toEqual(
      msg('N')
        .string('S')
        .cstring('NOTICE')
        .string('V')
        .cstring('NOTICE')
        .string('C')
        .cstring('00000')
        .string('M')
        .cstring('ünïcode')
        .byte(0)
        .build(),
    );
  });
});

describe('backend messages: decoded by pg-protocol', () => {
  it('a whole login greeting decodes message by message', async () => {
    const greeting = Buffer.concat([
      authenticationOk(),
      parameterStatus('server_version', '17.0'),
      backendKeyData(7, 9),
      readyForQuery(TransactionStatus.inTransaction),
    ]);
    const decoded = await decode(greeting);
    expect(decoded).toMatchObject([
      { name: 'authenticationOk' },
      { name: 'parameterStatus', parameterName: 'server_version', parameterValue: '17.0' },
      { name: 'backendKeyData', processID: 7, secretKey: 9 },
      { name: 'readyForQuery', status: 'T' },
    ]);
  });

  it('an ErrorResponse decodes with every field', async () => {
    const [decoded] = await decode(
      errorOrNotice('E', {
        severity: 'ERROR',
        code: '42501',
        message: 'denied ✗',
        hint: 'ask for a grant',
      }),
    );
    expect(decoded).toMatchObject({
      name: 'error',
      severity: 'ERROR',
      code: '42501',
      message: 'denied ✗',
      hint: 'ask for a grant',
    });
    expect(decoded).not.toHaveProperty('detail', expect.anything());
  });

  it('a cleartext password request decodes', async () => {
    expect(await decode(authenticationCleartextPassword())).toMatchObject([
      { name: 'authenticationCleartextPassword' },
    ]);
  });
});
