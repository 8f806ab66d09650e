// The outbound queue: relayed slices and written bytes leave in the order they were queued, written bytes
// that follow each other leave as one buffer (also across a slab change), and bytes once taken never
// change until their take is confirmed sent; after that the slab is written again from its start.
import { describe, expect, it } from 'vitest';
import { Outbound } from './outbound.js';

/** Writes `text` through reserve/commit, as the row writer does. */
function write(out: Outbound, text: string): void {
  const bytes = Buffer.from(text);
  const buf = out.reserve(bytes.length);
  bytes.copy(buf, out.at);
  out.commit(out.at + bytes.length);
}

const joined = (parts: readonly Buffer[]) => Buffer.concat(parts).toString();

describe('Outbound', () => {
  it('keeps pushes and writes in order; consecutive writes leave as one buffer', () => {
    const out = new Outbound();
    expect(out.empty).toBe(true);
    out.push(Buffer.from('a'));
    write(out, 'b');
    write(out, 'c');
    out.push(Buffer.from('d'));
    write(out, 'e');
    expect(out.empty).toBe(false);
    expect(out.take().parts.map(String)).toEqual(['a', 'bc', 'd', 'e']);
    expect(out.empty).toBe(true);
    expect(out.take().parts).toEqual([]);
  });

  it('drops bytes reserved but not committed', () => {
    const out = new Outbound();
    write(out, 'keep');
    const buf = out.reserve(10);
    buf.write('drop', out.at);
    expect(joined(out.take().parts)).toBe('keep');
  });

  it('moves written bytes not yet taken to a new slab, so they still leave as one buffer', () => {
    const out = new Outbound();
    const first = 'x'.repeat(3000);
    write(out, first);
    // More than the first slab holds: a new, larger one takes the pending bytes along.
    const second = 'y'.repeat(5000);
    write(out, second);
    const { parts } = out.take();
    expect(parts).toHaveLength(1);
    expect(parts[0]!.toString()).toBe(first + second);
  });

  it('writes the slab again from its start only once everything taken from it is confirmed sent', () => {
    const out = new Outbound();
    write(out, 'a'.repeat(3000));
    const pinned = out.take();
    // Not confirmed: the next write that does not fit goes to a new slab.
    write(out, 'b'.repeat(3000));
    expect(pinned.parts[0]!.toString()).toBe('a'.repeat(3000));
    const confirmed = out.take();
    const view = confirmed.parts[0]!;
    confirmed.sent();
    pinned.sent();
    // Confirmed and nothing queued: the current slab is written over from its start.
    write(out, 'c'.repeat(6000));
    const again = out.take();
    expect(again.parts[0]!.buffer).toBe(view.buffer);
    expect(again.parts[0]!.byteOffset).toBe(view.byteOffset);
    expect(pinned.parts[0]!.toString()).toBe('a'.repeat(3000));
    expect(joined(again.parts)).toBe('c'.repeat(6000));
  });

  it('never writes over bytes queued but not taken yet', () => {
    const out = new Outbound();
    write(out, 'a'.repeat(3000));
    out.push(Buffer.from('x'));
    // Nothing of this slab was taken, but its bytes wait in the queue: a new slab is needed.
    write(out, 'b'.repeat(3000));
    expect(out.take().parts.map(String)).toEqual(['a'.repeat(3000), 'x', 'b'.repeat(3000)]);
  });

  it('never changes bytes of a take not confirmed, whatever is written after', () => {
    const out = new Outbound();
    // Each part taken and not confirmed, with its text at the time it was taken.
    const held: [Buffer, string][] = [];
    for (let i = 0; i < 300; i++) {
      const text = `${i}:`.padEnd(1 + ((i * 37) % 900), String.fromCharCode(97 + (i % 26)));
      write(out, text);
      if (i % 3 === 0) {
        const { parts, sent } = out.take();
        // Every other take is confirmed at once, so slabs are reused in between.
        if (i % 2 === 0) sent();
        else for (const part of parts) held.push([part, part.toString()]);
      }
    }
    for (const [bytes, text] of held) expect(bytes.toString()).toBe(text);
  });

  it('a confirmation for a slab given up does not free the current one', () => {
    const out = new Outbound();
    write(out, 'a'.repeat(100));
    const old = out.take();
    out.release();
    write(out, 'b'.repeat(3000));
    const pinned = out.take();
    old.sent();
    write(out, 'c'.repeat(3000));
    expect(pinned.parts[0]!.toString()).toBe('b'.repeat(3000));
  });

  it('release() lets go of the slab; what was queued still leaves', () => {
    const out = new Outbound();
    write(out, 'abc');
    out.release();
    write(out, 'def');
    expect(out.take().parts.map(String)).toEqual(['abc', 'def']);
  });
});
