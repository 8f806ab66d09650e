// The whole masking table, checked when loaded, and the cases each driver mode runs.
import { checkCase, type DriverMode, type MaskCase } from './case.js';
import { COLUMN_ROWS } from './rows-columns.js';
import { COPY_ROWS } from './rows-copy.js';
import { INFERENCE_ROWS } from './rows-inference.js';
import { AGGREGATE_ROWS, SUBQUERY_ROWS } from './rows-queries.js';
import { STATEMENT_ROWS } from './rows-statements.js';
import { WHOLE_ROW_ROWS } from './rows-wholerow.js';

export const MASKING_TABLE: readonly MaskCase[] = [
  ...COLUMN_ROWS,
  ...AGGREGATE_ROWS,
  ...SUBQUERY_ROWS,
  ...WHOLE_ROW_ROWS,
  ...STATEMENT_ROWS,
  ...COPY_ROWS,
  ...INFERENCE_ROWS,
];
checkCase(MASKING_TABLE);

/** One mode per driver reads COPY: the COPY statement is the same whatever the driver's result format. */
const COPY_MODES: ReadonlySet<DriverMode> = new Set([
  'node-pg simple',
  'postgres.js simple',
  'psql',
  'psycopg text',
]);

export function casesFor(mode: DriverMode, table = MASKING_TABLE): MaskCase[] {
  return table.filter(
    (c) => c.skip?.[mode] === undefined && (c.copy === undefined || COPY_MODES.has(mode)),
  );
}
