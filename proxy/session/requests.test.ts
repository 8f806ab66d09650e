// Reading CommandComplete tags: each read gives the tag and row count of exactly the bytes given,
// whether or not the previous tag's text is reused.
import { describe, expect, it } from 'vitest';
import { TagReader } from './requests.js';

/** A CommandComplete body (tag and NUL) inside other bytes, as it sits in a chunk. */
function inChunk(tag: Buffer): { src: Buffer; start: number; end: number } {
  const src = Buffer.concat([Buffer.from('xx'), tag, Buffer.from([0]), Buffer.from('Z')]);
  return { src, start: 2, end: 2 + tag.length + 1 };
}

function read(reader: TagReader, tag: Buffer | string): [string, number | null] {
  const { src, start, end } = inChunk(typeof tag === 'string' ? Buffer.from(tag) : tag);
  reader.read(src, start, end);
  return [reader.tag, reader.rows];
}

describe('TagReader', () => {
  it('reads each tag and its row count, repeats and same-length changes alike', () => {
    const r = new TagReader();
    expect(read(r, 'SELECT 1')).toEqual(['SELECT 1', 1]);
    expect(read(r, 'SELECT 1')).toEqual(['SELECT 1', 1]);
    expect(read(r, 'SELECT 7')).toEqual(['SELECT 7', 7]);
    expect(read(r, 'INSERT 0 3')).toEqual(['INSERT 0 3', 3]);
    expect(read(r, 'BEGIN')).toEqual(['BEGIN', null]);
    expect(read(r, 'BEGIN')).toEqual(['BEGIN', null]);
    expect(read(r, '')).toEqual(['', null]);
  });

  it('stops at the end of the body when the NUL is missing', () => {
    const r = new TagReader();
    const src = Buffer.from('UPDATE 12UPDATE 99');
    r.read(src, 0, 9);
    expect([r.tag, r.rows]).toEqual(['UPDATE 12', 12]);
    r.read(src, 9, src.length);
    expect([r.tag, r.rows]).toEqual(['UPDATE 99', 99]);
  });

  it('never takes bytes for a non-ASCII tag whose characters they resemble', () => {
    const r = new TagReader();
    // "éA" as UTF-8 (C3 A9 41), then the two bytes E9 41, whose codes equal its characters' codes.
    expect(read(r, Buffer.from('éA'))).toEqual(['éA', null]);
    expect(read(r, Buffer.from([0xe9, 0x41]))).toEqual(['\ufffdA', null]);
    expect(read(r, Buffer.from([0xe9, 0x41]))).toEqual(['\ufffdA', null]);
  });
});
