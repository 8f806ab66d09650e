// decodeStartupPacket on byte fixtures: the four request kinds, malformed variants and versions it refuses.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cancelRequest,
  gssencRequest,
  packet,
  sslRequest,
  startup,
} from '../../test/harness/bytes.js';
import {
  CANCEL_REQUEST,
  decodeStartupPacket,
  GSSENC_REQUEST,
  PROTOCOL_3_0,
  SSL_REQUEST,
} from './startup.js';

describe('decodeStartupPacket: well-formed packets', () => {
  it('decodes SSLRequest and GSSENCRequest', () => {
    expect(sslRequest()).toEqual(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]));
    expect(decodeStartupPacket(sslRequest())).toEqual({ type: 'SSLRequest' });
    expect(decodeStartupPacket(gssencRequest())).toEqual({ type: 'GSSENCRequest' });
  });

  it('decodes CancelRequest with signed pid and secret', () => {
    expect(decodeStartupPacket(cancelRequest(4242, 123456789))).toEqual({
      type: 'CancelRequest',
      pid: 4242,
      secret: 123456789,
    });
    expect(decodeStartupPacket(cancelRequest(0x7fffffff, -1))).toEqual({
      type: 'CancelRequest',
      pid: 0x7fffffff,
      secret: -1,
    });
  });

  it('decodes a StartupMessage with its parameters in order', () => {
    const decoded = decodeStartupPacket(
      startup({ user: 'alice', database: 'app', application_name: 'psql', options: '-c a=b' }),
    );
    expect(decoded.type).toBe('StartupMessage');
    if (decoded.type !== 'StartupMessage') return;
    expect([...decoded.parameters]).toEqual([
      ['user', 'alice'],
      ['database', 'app'],
      ['application_name', 'psql'],
      ['options', '-c a=b'],
    ]);
  });

  it('accepts a StartupMessage with no parameters and empty values, and decodes UTF-8', () => {
    expect(decodeStartupPacket(startup({}))).toEqual({
      type: 'StartupMessage',
      minor: 0,
      parameters: new Map(),
    });
    const decoded = decodeStartupPacket(startup({ user: 'zoë', application_name: '' }));
    expect(decoded).toEqual({
      type: 'StartupMessage',
      minor: 0,
      parameters: new Map([
        ['user', 'zoë'],
        ['application_name', ''],
      ]),
    });
  });

  it('exports the protocol codes the builder uses', () => {
    expect([PROTOCOL_3_0, SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST]).toEqual([
      3 << 16,
      (1234 << 16) | 5679,
      (1234 << 16) | 5680,
      (1234 << 16) | 5678,
    ]);
  });
});

describe('decodeStartupPacket: malformed packets', () => {
  const v3 = () => packet().int32(PROTOCOL_3_0);
  const cases: [string, Buffer, RegExp][] = [
    ['empty', Buffer.alloc(0), /too short/],
    ['only a length', Buffer.from([0, 0, 0, 4]), /too short/],
    ['7 bytes', Buffer.from([0, 0, 0, 7, 0, 3, 0]), /too short/],
    ['no terminator at all', v3().build(), /not terminated/],
    ['name without its NUL', v3().string('user').build(), /name/],
    ['name without a value', v3().cstring('user').build(), /name/],
    ['value without its NUL', v3().cstring('user').string('alice').build(), /value/],
    ['missing final terminator', v3().cstring('user').cstring('alice').build(), /not terminated/],
    [
      'bytes after the terminator',
      v3().cstring('user').cstring('alice').byte(0).string('x').build(),
      /after/,
    ],
    ['two terminators', v3().cstring('user').cstring('alice').byte(0).byte(0).build(), /after/],
    [
      'duplicate parameter',
      v3().cstring('user').cstring('a').cstring('user').cstring('b').byte(0).build(),
      /duplicate.*user/,
    ],
    ['SSLRequest with a trailing byte', packet().int32(SSL_REQUEST).byte(0).build(), /SSLRequest/],
    [
      'GSSENCRequest with a trailing int',
      packet().int32(GSSENC_REQUEST).int32(0).build(),
      /GSSENCRequest/,
    ],
    ['CancelRequest without a secret', packet().int32(CANCEL_REQUEST).int32(1).build(), /Cancel/],
    [
      'CancelRequest with a trailing byte',
      packet().int32(CANCEL_REQUEST).int32(1).int32(2).byte(0).build(),
      /Cancel/,
    ],
  ];

  it.each(cases)('%s', (_name, bytes, reason) => {
    const decoded = decodeStartupPacket(bytes);
    expect(decoded.type).toBe('Malformed');
    if (decoded.type === 'Malformed') expect(decoded.reason).toMatch(reason);
  });

  it('a duplicate differing only in case is two parameters (judged later, case-insensitively)', () => {
    const decoded = decodeStartupPacket(startup({ TimeZone: 'UTC', timezone: 'UTC' }));
    expect(decoded.type).toBe('StartupMessage');
  });
});

describe('decodeStartupPacket: versions', () => {
  it.each([
    [3, 1],
    [3, 2],
  ])('serves protocol %i.%i as 3.0 and reports the requested minor version', (_major, minor) => {
    const bytes = packet()
      .int32((3 << 16) | minor)
      .cstring('user')
      .cstring('u')
      .byte(0)
      .build();
    expect(decodeStartupPacket(bytes)).toEqual({
      type: 'StartupMessage',
      minor,
      parameters: new Map([['user', 'u']]),
    });
  });

  it.each([
    [2, 0],
    [4, 0],
    [0xffff, 0xffff],
  ])('refuses protocol %i.%i as Unsupported', (major, minor) => {
    const bytes = packet()
      .int32((major << 16) | minor)
      .byte(0)
      .build();
    expect(decodeStartupPacket(bytes)).toEqual({ type: 'Unsupported', major, minor });
  });
});

describe('decodeStartupPacket never throws', () => {
  it('on random buffers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const decoded = decodeStartupPacket(Buffer.from(bytes));
        expect(typeof decoded.type).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('on random parameter sections behind a valid 3.0 header', () => {
    const body = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 127 })), {
      maxLength: 120,
    });
    fc.assert(
      fc.property(body, (rest) => {
        const bytes = packet().int32(PROTOCOL_3_0).bytes(Uint8Array.from(rest)).build();
        const decoded = decodeStartupPacket(bytes);
        expect(['StartupMessage', 'Malformed']).toContain(decoded.type);
        if (decoded.type === 'StartupMessage') {
          // Re-encoding what was decoded (ASCII here) gives the same bytes back.
          const again = packet().int32(PROTOCOL_3_0);
          for (const [k, v] of decoded.parameters) again.cstring(k).cstring(v);
          expect(again.byte(0).build()).toEqual(bytes);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
