// How a row's observed result is judged: allowed means it ran; a refusal is 42501 from the gateway
// whose message ends with `(rule <id>)`, with a HINT exactly when the statement needs an approval.
import { expect } from 'vitest';
import type { PolicyRow, RowResult } from './row.js';

/** The rule a gateway denial names, or null for any other message (PostgreSQL's own 42501 included). */
export function ruleOf(message: string | null): string | null {
  return /^pgward: .*\(rule ([a-z0-9_.]+)\)$/s.exec(message ?? '')?.[1] ?? null;
}

function describe(result: RowResult): string {
  return result.ok ? 'ran' : `failed ${result.sqlstate}: ${result.message}`;
}

export function expectRowOutcome(row: PolicyRow, result: RowResult): void {
  const seen = describe(result);
  if (row.expect === 'allowed') {
    expect(result.ok, `${row.id} should run, but ${seen}`).toBe(true);
    return;
  }
  expect(result.ok, `${row.id} should be refused (${row.rule}), but it ran`).toBe(false);
  expect({ sqlstate: result.sqlstate, rule: ruleOf(result.message) }, `${row.id}: ${seen}`).toEqual(
    { sqlstate: '42501', rule: row.rule },
  );
  if (result.hint === undefined) return;
  if (row.expect === 'approval_required') {
    expect(result.hint ?? '', `${row.id}: approval HINT`).toMatch(/approv/i);
  } else {
    expect(result.hint ?? null, `${row.id}: a plain denial has no HINT`).toBeNull();
  }
}
