// Judges one case: the gateway's answer against PostgreSQL's own answer to the same statement through
// the same driver, column by column per the case's codes, and the refusals and errors it names.
import { expect } from 'vitest';
import { REDACTED } from '../../../proxy/filter/mask-methods.js';
import type { CaseResult, Cell, ColumnCode, MaskCase } from './case.js';
import { copyRows } from './copy-format.js';

/** The rule a gateway denial names, or null for any other message. */
export function ruleOf(message: string | null): string | null {
  return /pgward: .*\(rule ([a-z0-9_.]+)\)/s.exec(message ?? '')?.[1] ?? null;
}

const HASH = /^[0-9a-f]{32}$/;

/** What the gateway must send for a cell whose direct value is `direct`. */
function expectedCell(code: ColumnCode, direct: Cell): Cell | RegExp {
  if (code === 'K') return direct;
  if (direct === null || code === 'N') return null;
  const text = String(direct);
  switch (code) {
    case 'R':
      return REDACTED;
    case 'E': {
      const at = text.lastIndexOf('@');
      return at < 0 ? REDACTED : `***${text.slice(at)}`;
    }
    case 'P': {
      const chars = [...text];
      return chars.length <= 4 ? '*'.repeat(chars.length) : `****${chars.slice(-4).join('')}`;
    }
    case 'H':
      return HASH;
  }
}

function compareRows(
  c: MaskCase,
  got: readonly (readonly Cell[])[],
  want: readonly (readonly Cell[])[],
  binaryCopy: boolean,
): void {
  const codes = [...(c.columns ?? '')] as ColumnCode[];
  expect(got.length, `${c.id}: row count`).toBe(want.length);
  const hashes = new Map<string, Cell>();
  want.forEach((directRow, r) => {
    const row = got[r] ?? [];
    expect(row.length, `${c.id}: columns in row ${r}`).toBe(codes.length);
    codes.forEach((code, i) => {
      const direct = directRow[i] ?? null;
      // Binary COPY has no text to put a masked value in: every masked field is NULL.
      const expected = binaryCopy && code !== 'K' ? null : expectedCell(code, direct);
      const label = `${c.id}: row ${r} column ${i + 1} (${code})`;
      if (expected instanceof RegExp) {
        expect(String(row[i]), label).toMatch(expected);
        const key = JSON.stringify(direct);
        // The keyed hash is stable: the same input gives the same output.
        if (hashes.has(key)) expect(row[i], `${label}: stable hash`).toBe(hashes.get(key));
        hashes.set(key, row[i]);
      } else expect(row[i] ?? null, label).toEqual(expected);
    });
  });
}

export function judgeCase(c: MaskCase, gateway: CaseResult, direct: CaseResult): void {
  const seen = gateway.ok ? 'ran' : `failed ${gateway.sqlstate}: ${gateway.message}`;
  if (c.refused !== undefined) {
    expect({ ok: gateway.ok, sqlstate: gateway.sqlstate }, `${c.id}: ${seen}`).toEqual({
      ok: false,
      sqlstate: '42501',
    });
    expect(ruleOf(gateway.message), `${c.id}: ${seen}`).toBe(c.refused);
    return;
  }
  if (c.error !== undefined) {
    expect(direct.sqlstate, `${c.id}: directly`).toBe(c.error);
    expect(gateway.sqlstate, `${c.id}: ${seen}`).toBe(c.error);
    return;
  }
  expect(direct.ok, `${c.id}: directly failed ${direct.sqlstate}: ${direct.message}`).toBe(true);
  expect(gateway.ok, `${c.id}: ${seen}`).toBe(true);
  if (c.copy !== undefined) {
    const want = copyRows(c.copy, direct.copy ?? Buffer.alloc(0), c.sql);
    const got = copyRows(c.copy, gateway.copy ?? Buffer.alloc(0), c.sql);
    compareRows(c, got, want, c.copy === 'binary');
    return;
  }
  // Same names and types as PostgreSQL's own answer: masking never changes the shape.
  expect(gateway.columns, `${c.id}: columns`).toEqual(direct.columns);
  compareRows(c, gateway.rows, direct.rows, false);
}
