// The extended-protocol message decoders: unnamed and named statements and portals alike, and
// malformed bodies refused (null) rather than read past their end.
import { describe, expect, it } from 'vitest';
import {
  decodeBind as bindAt,
  decodeCloseOrDescribe as closeOrDescribeAt,
  cstringEnd,
  decodeExecute as executeAt,
  ParseReader,
  decodeQuery as queryAt,
} from './extended-state.js';

/** A decoder applied to a whole buffer (the session hands them ranges of a chunk). */
const whole =
  <T>(decode: (src: Buffer, start: number, end: number) => T) =>
  (body: Buffer) =>
    decode(body, 0, body.length);
const decodeBind = whole(bindAt);
const decodeExecute = whole(executeAt);
const decodeCloseOrDescribe = whole(closeOrDescribeAt);
const decodeQuery = whole(queryAt);
const decodeParse = (body: Buffer) => new ParseReader().read(body, 0, body.length);

const z = (...parts: string[]) => Buffer.from(`${parts.join('\0')}\0`, 'utf8');

describe('extended-protocol decoders', () => {
  it('find the NUL that ends empty and named strings', () => {
    const end = (b: Buffer, pos: number) => cstringEnd(b, pos, b.length);
    expect(end(z(''), 0)).toBe(0);
    expect(end(z('', 'p1'), 1)).toBe(3);
    expect(end(z('nämë'), 0)).toBe(6);
    // No NUL, or nothing left at all: refused.
    expect(end(Buffer.from('abc'), 0)).toBe(-1);
    expect(end(z(''), 1)).toBe(-1);
  });

  it('decode Bind, Execute, Describe and Close for the unnamed and named objects', () => {
    expect(decodeBind(Buffer.concat([z('', ''), Buffer.alloc(6)]))).toEqual({
      portal: '',
      statement: '',
    });
    expect(decodeBind(Buffer.concat([z('c1', 's1'), Buffer.alloc(6)]))).toEqual({
      portal: 'c1',
      statement: 's1',
    });
    expect(decodeBind(Buffer.from('c1'))).toBeNull();
    expect(decodeExecute(Buffer.concat([z(''), Buffer.alloc(4)]))).toEqual({ portal: '' });
    expect(decodeExecute(Buffer.concat([z('c1'), Buffer.alloc(4)]))).toEqual({ portal: 'c1' });
    expect(decodeExecute(Buffer.alloc(0))).toBeNull();
    expect(decodeCloseOrDescribe(Buffer.from('P\0'))).toEqual({ kind: 'P', name: '' });
    expect(decodeCloseOrDescribe(Buffer.from('Ss1\0'))).toEqual({ kind: 'S', name: 's1' });
    expect(decodeCloseOrDescribe(Buffer.from('X\0'))).toBeNull();
    expect(decodeCloseOrDescribe(Buffer.from('S'))).toBeNull();
  });

  it('decode a Query only when its one NUL ends the body', () => {
    expect(decodeQuery(Buffer.from('SELECT 1\0'))).toBe('SELECT 1');
    expect(decodeQuery(Buffer.from('\0'))).toBe('');
    expect(decodeQuery(Buffer.from('SELECT 1'))).toBeNull();
    expect(decodeQuery(Buffer.from('SELECT 1\0; DROP TABLE t\0'))).toBeNull();
  });

  it('decode Parse with its parameter types, and refuse a count that disagrees with the body', () => {
    const types = Buffer.from([0, 1, 0, 0, 0, 23]);
    const parsed = decodeParse(Buffer.concat([z('', 'SELECT $1'), types]));
    expect(parsed).toEqual({ name: '', text: 'SELECT $1', paramTypes: types });
    const untyped = decodeParse(Buffer.concat([z('s1', 'SELECT 1'), Buffer.from([0, 0])]));
    expect(untyped).toEqual({ name: 's1', text: 'SELECT 1', paramTypes: Buffer.from([0, 0]) });
    expect(
      decodeParse(Buffer.concat([z('', 'SELECT $1'), Buffer.from([0, 2, 0, 0, 0, 23])])),
    ).toBeNull();
    expect(decodeParse(z('', 'SELECT 1'))).toBeNull();
  });

  it('reuses the last Parse text only for the same bytes', () => {
    const reader = new ParseReader();
    const parse = (name: string, text: string) => {
      const body = Buffer.concat([z(name, text), Buffer.from([0, 0])]);
      return reader.read(body, 0, body.length);
    };
    expect(parse('', 'SELECT $1')?.text).toBe('SELECT $1');
    // Same text under another name: the text is read from this body's own place.
    expect(parse('s1', 'SELECT $1')).toEqual({
      name: 's1',
      text: 'SELECT $1',
      paramTypes: Buffer.from([0, 0]),
    });
    // Same length, different bytes (one differs only in its last byte, one is non-ASCII).
    expect(parse('', 'SELECT $2')?.text).toBe('SELECT $2');
    expect(parse('', 'SELECT ä')?.text).toBe('SELECT ä');
    expect(parse('', 'SELECT äb')?.text).toBe('SELECT äb');
    expect(parse('', 'SELECT $1')?.text).toBe('SELECT $1');
    // A body that is not a Parse leaves nothing behind that a later one could reuse.
    const notParse = z('', 'SELECT $1');
    expect(reader.read(notParse, 0, notParse.length)).toBeNull();
    expect(parse('', 'SELECT $3')?.text).toBe('SELECT $3');
  });

  it('read a body inside a larger chunk and never past its end', () => {
    // Each body sits between other bytes, as in a chunk of several messages; the NUL that would end
    // its last string lies just past the body, so every decoder must refuse it.
    const inChunk = (body: Buffer) =>
      Buffer.concat([Buffer.from('xx\0'), body, Buffer.from('\0yy')]);
    const decoders: [string, Buffer, (src: Buffer, start: number, end: number) => unknown][] = [
      ['Query', Buffer.from('SELECT 1'), queryAt],
      ['Bind', z('c1').subarray(0, 3), bindAt],
      ['Execute', Buffer.from('c1'), executeAt],
      ['Describe', Buffer.from('Ss1'), closeOrDescribeAt],
      ['Parse', z('').subarray(0, 1), (src, start, end) => new ParseReader().read(src, start, end)],
    ];
    for (const [, body, decode] of decoders) {
      const chunk = inChunk(body);
      expect(decode(chunk, 3, 3 + body.length)).toBeNull();
    }
    // The same bodies with their NUL inside the range decode from their place in the chunk.
    const query = inChunk(Buffer.from('SELECT 1\0'));
    expect(queryAt(query, 3, query.length - 3)).toBe('SELECT 1');
    const bind = inChunk(Buffer.concat([z('c1', 's1'), Buffer.alloc(6)]));
    expect(bindAt(bind, 3, bind.length - 3)).toEqual({ portal: 'c1', statement: 's1' });
    const describe = inChunk(Buffer.from('Ps1\0'));
    expect(closeOrDescribeAt(describe, 3, describe.length - 3)).toEqual({ kind: 'P', name: 's1' });
    const parse = inChunk(Buffer.concat([z('s1', 'SELECT $1'), Buffer.from([0, 0])]));
    expect(new ParseReader().read(parse, 3, parse.length - 3)).toEqual({
      name: 's1',
      text: 'SELECT $1',
      paramTypes: Buffer.from([0, 0]),
    });
    // An empty range reads nothing, even where the chunk has bytes.
    expect(executeAt(query, 3, 3)).toBeNull();
    expect(closeOrDescribeAt(describe, 3, 3)).toBeNull();
  });
});
