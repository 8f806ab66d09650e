// The measurement grid: every cell runs against every target, interleaved and repeated. Add a workload
// by appending a Cell; its `id` becomes the suffix of its flat result keys.
import type { BulkKind } from './bulk.js';
import type { QueryMode, Workload } from './pgbench.js';

export type Cell =
  | {
      readonly kind: 'pgbench';
      readonly id: string;
      readonly workload: Workload;
      readonly mode: QueryMode;
      readonly clients: number;
      /** Part of the --quick run (the cells behind the headline figures). */
      readonly quick: boolean;
    }
  | {
      readonly kind: 'bulk';
      readonly id: string;
      readonly bulk: BulkKind;
      readonly quick: boolean;
    };

const HEADLINE_PGBENCH = new Set(['S_simple_c1', 'S_simple_c8']);

function pgbenchCells(): Cell[] {
  const cells: Cell[] = [];
  for (const workload of ['S', 'N'] as const) {
    for (const mode of ['simple', 'extended'] as const) {
      for (const clients of [1, 8, 32]) {
        const id = `${workload}_${mode}_c${clients}`;
        cells.push({
          kind: 'pgbench',
          id,
          workload,
          mode,
          clients,
          quick: HEADLINE_PGBENCH.has(id),
        });
      }
    }
  }
  return cells;
}

export const CELLS: readonly Cell[] = [
  ...pgbenchCells(),
  { kind: 'bulk', id: 'bulk_copy', bulk: 'copy', quick: false },
  { kind: 'bulk', id: 'bulk_select', bulk: 'select', quick: true },
];

export function describeCell(cell: Cell, seconds: number): string {
  switch (cell.kind) {
    case 'pgbench':
      return `pgbench -${cell.workload} -M ${cell.mode} -c ${cell.clients} -j ${Math.min(cell.clients, 2)} -T ${seconds}`;
    case 'bulk':
      return cell.bulk === 'copy'
        ? 'COPY (SELECT * FROM pgbench_accounts) TO STDOUT, 1,000,000 rows'
        : 'SELECT * FROM pgbench_accounts, 1,000,000 rows';
    default:
      return assertNever(cell);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}
