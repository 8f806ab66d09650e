import { describe, expect, it } from 'vitest';
import { bytesOf, lines, RowQueue } from './row-queue.js';

const statement = (row: string) => ({ table: 'statements', row }) as const;
const session = (row: string) => ({ table: 'sessions', row }) as const;

describe('RowQueue', () => {
  it('takes the oldest rows in arrival order, split by table', () => {
    const q = new RowQueue();
    q.push(session('["o1"]'));
    q.push(statement('["a"]'));
    q.push(statement('["b"]'));
    q.push(session('["c1"]'));
    q.push(statement('["c"]'));
    const first = q.take(3);
    expect(first.rows).toBe(3);
    expect(lines(first.statements)).toEqual(['["a"]', '["b"]']);
    expect(lines(first.sessions)).toEqual(['["o1"]']);
    expect(q.length).toBe(2);
    const rest = q.take(10);
    expect(lines(rest.statements)).toEqual(['["c"]']);
    expect(lines(rest.sessions)).toEqual(['["c1"]']);
    expect(rest.rows).toBe(2);
    expect(q.length).toBe(0);
    expect(q.take(5)).toEqual({ statements: Buffer.alloc(0), sessions: Buffer.alloc(0), rows: 0 });
  });

  it('keeps multi-byte text intact and grows past its first buffer', () => {
    const q = new RowQueue();
    const rows = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify([`zürich ✓ 😀 ${i}`, 'x'.repeat(900)]),
    );
    for (const r of rows) q.push(statement(r));
    const half = q.take(1500);
    expect(lines(half.statements)).toEqual(rows.slice(0, 1500));
    for (const r of rows.slice(0, 10)) q.push(statement(r));
    expect(lines(q.take(5000).statements)).toEqual([...rows.slice(1500), ...rows.slice(0, 10)]);
  });

  it('gives batches that later writes do not change', () => {
    const q = new RowQueue();
    q.push(statement('["first"]'));
    const batch = q.take(1);
    q.push(statement('["second"]'));
    q.push(statement('["third"]'));
    expect(lines(batch.statements)).toEqual(['["first"]']);
  });

  it('round-trips lines through bytes', () => {
    expect(lines(bytesOf(['[1]', '["ü"]']))).toEqual(['[1]', '["ü"]']);
    expect(lines(bytesOf([]))).toEqual([]);
  });
});
