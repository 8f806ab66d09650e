// Session helpers at the byte level. mergeAdjacent: runs of views that continue one another become
// one view of the same memory; anything else stays as it is, in order.
import { describe, expect, it } from 'vitest';
import { mergeAdjacent } from './session.js';

describe('mergeAdjacent', () => {
  const chunk = Buffer.from('0123456789abcdef');
  const other = Buffer.from('XYZ');

  it('joins adjacent views into one view of the same memory', () => {
    const merged = mergeAdjacent([chunk.subarray(0, 3), chunk.subarray(3, 7), chunk.subarray(7)]);
    expect(merged).toHaveLength(1);
    expect(merged[0]!.toString()).toBe('0123456789abcdef');
    expect(merged[0]!.buffer).toBe(chunk.buffer);
    expect(merged[0]!.byteOffset).toBe(chunk.byteOffset);
  });

  it('keeps gaps, other memory and order', () => {
    const parts = [
      chunk.subarray(0, 2),
      chunk.subarray(2, 4),
      other,
      chunk.subarray(4, 6),
      chunk.subarray(8, 10),
      chunk.subarray(10, 12),
    ];
    const merged = mergeAdjacent(parts);
    expect(merged.map((b) => b.toString())).toEqual(['0123', 'XYZ', '45', '89ab']);
    // A part that joins nothing is passed as it is.
    expect(merged[1]).toBe(other);
    expect(merged[2]).toBe(parts[3]);
    expect(parts).toHaveLength(6);
  });

  it('handles no part and one part', () => {
    expect(mergeAdjacent([])).toEqual([]);
    const one = chunk.subarray(1, 2);
    expect(mergeAdjacent([one])).toEqual([one]);
  });
});
