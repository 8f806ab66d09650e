// The whole policy table in run order, checked for consistency when loaded, and the subsets the
// external drivers run (rows marked `subset` plus the rows they depend on).

import { type ExternalDriver, type PolicyRow, sessionOf } from './row.js';
import { ACCESS_ROWS } from './rows-access.js';
import { GUARDRAIL_ROWS } from './rows-guardrails.js';
import { NAME_ROWS } from './rows-names.js';
import { SESSION_ROWS } from './rows-session.js';
import { UTILITY_ROWS } from './rows-utility.js';

export const POLICY_TABLE: readonly PolicyRow[] = [
  ...ACCESS_ROWS,
  ...NAME_ROWS,
  ...SESSION_ROWS,
  ...UTILITY_ROWS,
  ...GUARDRAIL_ROWS,
];

function check(rows: readonly PolicyRow[]): void {
  const seen = new Map<string, number>();
  rows.forEach((row, i) => {
    if (seen.has(row.id)) throw new Error(`policy table: duplicate row id ${row.id}`);
    if ((row.expect === 'allowed') !== (row.rule === undefined)) {
      throw new Error(`policy table: ${row.id} must name a rule exactly when it is refused`);
    }
    for (const dep of row.after ?? []) {
      const at = seen.get(dep);
      const target = rows[at ?? -1];
      if (target === undefined || sessionOf(target) !== sessionOf(row)) {
        throw new Error(
          `policy table: ${row.id} runs after ${dep}, which must come earlier on its session`,
        );
      }
    }
    seen.set(row.id, i);
  });
}
check(POLICY_TABLE);

/**
 * The rows an external driver runs, in table order: `subset` rows it can express, with their
 * dependencies. No row of a subset may change the fixture (allowed writes stay out), so the whole run
 * must leave the database exactly as it found it.
 */
export function subsetFor(driver: ExternalDriver): PolicyRow[] {
  const byId = new Map(POLICY_TABLE.map((r) => [r.id, r]));
  const wanted = new Set<string>();
  const want = (row: PolicyRow): void => {
    if (wanted.has(row.id)) return;
    wanted.add(row.id);
    for (const dep of row.after ?? []) want(byId.get(dep) as PolicyRow);
  };
  const expressible = (row: PolicyRow) =>
    row.skip?.[driver] === undefined && !(driver === 'psql' && row.multi === true);
  for (const row of POLICY_TABLE) if (row.subset && expressible(row)) want(row);
  const rows = POLICY_TABLE.filter((r) => wanted.has(r.id));
  for (const row of rows) {
    if (row.mutates || !expressible(row)) {
      throw new Error(`policy table: ${row.id} cannot be in the ${driver} subset`);
    }
  }
  return rows;
}
