// The minimal ustar reader: wanted files only, leading "/" stripped, PAX paths honoured, and
// every malformed or oversized archive refused with a message instead of a throw.

import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { normalizeEntryName, readTar, readTarGz } from './tar.js';

/** A ustar header + padded body, built the way Go's archive/tar (used by opa) writes them. */
function entry(name: string, body: string | Buffer, type = '0'): Buffer {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000600\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write('00000000000\0', 136, 'latin1');
  header.write('        ', 148, 'latin1');
  header.write(type, 156, 'latin1');
  header.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  return Buffer.concat([header, padded]);
}

const archive = (...entries: Buffer[]) => Buffer.concat([...entries, Buffer.alloc(1024)]);
const wanted = new Set(['policy.wasm', 'data.json']);

describe('readTarGz', () => {
  it('returns the wanted regular files, names without their leading slash', () => {
    const tar = archive(
      entry('/data.json', '{"a":1}'),
      entry('/pgward/decision.rego', 'package pgward'),
      entry('/policy.wasm', Buffer.from([0, 0x61, 0x73, 0x6d])),
      entry('/.manifest', '{}'),
    );
    const result = readTarGz(gzipSync(tar), wanted);
    if (!result.ok) throw new Error(result.message);
    expect([...result.files.keys()].sort()).toEqual(['data.json', 'policy.wasm']);
    expect(result.files.get('data.json')?.toString()).toBe('{"a":1}');
    expect(result.files.get('policy.wasm')).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
  });

  it('handles bodies that end exactly on a block boundary', () => {
    const body = 'x'.repeat(1024);
    const result = readTar(archive(entry('data.json', body), entry('policy.wasm', 'w')), wanted);
    expect(result.ok && result.files.get('data.json')?.length).toBe(1024);
    expect(result.ok && result.files.get('policy.wasm')?.toString()).toBe('w');
  });

  it('honours a PAX path record', () => {
    const pax = entry('PaxHeaders/x', '20 path=/policy.wasm\n', 'x');
    const result = readTar(archive(pax, entry('truncated-name', 'wasm')), wanted);
    expect(result.ok && result.files.get('policy.wasm')?.toString()).toBe('wasm');
  });

  it('ignores directories and links with a wanted name', () => {
    const result = readTar(
      archive(entry('data.json', '', '5'), entry('policy.wasm', '', '2')),
      wanted,
    );
    expect(result.ok && result.files.size).toBe(0);
  });

  it.each([
    ['not gzip', () => readTarGz(Buffer.from('plain text'), wanted), 'not gzip'],
    [
      'larger than the bound',
      () =>
        readTarGz(gzipSync(Buffer.alloc(4096)), wanted, { maxUnpackedBytes: 1024, maxEntries: 10 }),
      'larger than 1024 bytes',
    ],
    [
      'truncated header',
      () => readTar(entry('data.json', 'x').subarray(0, 300), wanted),
      'truncated',
    ],
    [
      'truncated body',
      () => readTar(entry('data.json', 'x'.repeat(2000)).subarray(0, 1024), wanted),
      'truncated',
    ],
    [
      'a bad checksum',
      () => {
        const e = entry('data.json', '{}');
        e[0] = 'D'.charCodeAt(0);
        return readTar(archive(e), wanted);
      },
      'bad checksum',
    ],
    [
      'a non-octal size',
      () => {
        const e = entry('data.json', '{}');
        e.write('zzzzzzzzzzz\0', 124, 'latin1');
        return readTar(archive(e), wanted);
      },
      'bad checksum',
    ],
    [
      'a file present twice',
      () => readTar(archive(entry('/data.json', '1'), entry('./data.json', '2')), wanted),
      'data.json twice',
    ],
    [
      'too many entries',
      () =>
        readTar(archive(entry('a', ''), entry('b', ''), entry('c', '')), wanted, {
          maxUnpackedBytes: 1 << 20,
          maxEntries: 2,
        }),
      'more than 2 entries',
    ],
  ] as const)('refuses %s', (_name, run, fragment) => {
    const result = run();
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(fragment);
  });

  it('normalises entry names', () => {
    expect(normalizeEntryName('/policy.wasm')).toBe('policy.wasm');
    expect(normalizeEntryName('.//./data.json')).toBe('data.json');
  });
});
