// The extended-protocol message decoders: unnamed and named statements and portals alike, and
// malformed bodies refused (null) rather than read past their end.
import { describe, expect, it } from 'vitest';
import {
  cstringEnd,
  decodeBind,
  decodeCloseOrDescribe,
  decodeExecute,
  ParseReader,
} from './extended-state.js';

const decodeParse = (body: Buffer) => new ParseReader().read(body);

const z = (...parts: string[]) => Buffer.from(`${parts.join('\0')}\0`, 'utf8');

describe('extended-protocol decoders', () => {
  it('find the NUL that ends empty and named strings', () => {
    expect(cstringEnd(z(''), 0)).toBe(0);
    expect(cstringEnd(z('', 'p1'), 1)).toBe(3);
    expect(cstringEnd(z('nämë'), 0)).toBe(6);
    // No NUL, or nothing left at all: refused.
    expect(cstringEnd(Buffer.from('abc'), 0)).toBe(-1);
    expect(cstringEnd(z(''), 1)).toBe(-1);
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
    const parse = (name: string, text: string) =>
      reader.read(Buffer.concat([z(name, text), Buffer.from([0, 0])]));
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
    expect(reader.read(z('', 'SELECT $1'))).toBeNull();
    expect(parse('', 'SELECT $3')?.text).toBe('SELECT $3');
  });
});
