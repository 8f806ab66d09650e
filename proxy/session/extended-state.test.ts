// The extended-protocol message decoders: unnamed and named statements and portals alike, and
// malformed bodies refused (null) rather than read past their end.
import { describe, expect, it } from 'vitest';
import {
  cstring,
  decodeBind,
  decodeCloseOrDescribe,
  decodeExecute,
  decodeParse,
} from './extended-state.js';

const z = (...parts: string[]) => Buffer.from(`${parts.join('\0')}\0`, 'utf8');

describe('extended-protocol decoders', () => {
  it('read empty and named strings and the position after their NUL', () => {
    expect(cstring(z(''), 0)).toEqual(['', 1]);
    expect(cstring(z('', 'p1'), 1)).toEqual(['p1', 4]);
    expect(cstring(z('nämë'), 0)).toEqual(['nämë', 7]);
    // No NUL, or nothing left at all: refused.
    expect(cstring(Buffer.from('abc'), 0)).toBeNull();
    expect(cstring(z(''), 1)).toBeNull();
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
});
