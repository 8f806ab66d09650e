// The measurement grid: every cell runs against its targets (all unless it names some), interleaved and
// repeated. Add a workload by appending a Cell; its `id` becomes the suffix of its flat result keys.
import { BULK_SQL, type BulkKind } from './bulk.js';
import type { QueryMode, Workload } from './pgbench.js';

interface CellBase {
  readonly id: string;
  /** Part of the --quick run (the cells behind the headline figures). */
  readonly quick: boolean;
  /** Target names this cell runs on; every target when absent. */
  readonly targets?: readonly string[];
  /** In --quick, the target names it runs on (only those its headline figures need); else `targets`. */
  readonly quickTargets?: readonly string[];
}

export type Cell =
  | (CellBase & {
      readonly kind: 'pgbench';
      readonly workload: Workload;
      readonly mode: QueryMode;
      readonly clients: number;
    })
  | (CellBase & {
      readonly kind: 'bulk';
      readonly bulk: BulkKind;
      /** Also measure the target process's peak resident-set growth during the read. */
      readonly rss: boolean;
    });

/** The pass-through targets: the bulk reads of pgbench_accounts compare relays, not policies. */
const RELAYS = ['direct', 'pgbouncer', 'relay', 'pgward', 'pgward_w2'];
const MASKING = ['direct', 'pgward_policy'];

/** The headline cells and, for --quick, only the targets their headline keys read (see report.ts). */
const HEADLINE_PGBENCH: ReadonlyMap<string, readonly string[]> = new Map([
  ['S_simple_c1', ['direct', 'relay', 'pgward', 'pgward_policy']],
  [
    'S_simple_c8',
    ['direct', 'pgbouncer', 'relay', 'pgward', 'pgward_policy', 'pgward_policy_audit'],
  ],
  ['S_extended_c1', ['direct', 'pgward_policy']],
  ['S_extended_c8', ['direct', 'relay', 'pgward', 'pgward_policy', 'pgward_policy_audit']],
]);

function pgbenchCells(): Cell[] {
  const cells: Cell[] = [];
  for (const workload of ['S', 'N'] as const) {
    for (const mode of ['simple', 'extended'] as const) {
      for (const clients of [1, 8, 32]) {
        const id = `${workload}_${mode}_c${clients}`;
        const quickTargets = HEADLINE_PGBENCH.get(id);
        cells.push({
          kind: 'pgbench',
          id,
          workload,
          mode,
          clients,
          quick: quickTargets !== undefined,
          ...(quickTargets !== undefined ? { quickTargets } : {}),
        });
      }
    }
  }
  return cells;
}

export const CELLS: readonly Cell[] = [
  ...pgbenchCells(),
  { kind: 'bulk', id: 'bulk_copy', bulk: 'copy', rss: false, quick: false, targets: RELAYS },
  { kind: 'bulk', id: 'bulk_select', bulk: 'select', rss: false, quick: true, targets: RELAYS },
  {
    kind: 'bulk',
    id: 'mask_unmasked',
    bulk: 'unmasked',
    rss: false,
    quick: true,
    targets: MASKING,
  },
  { kind: 'bulk', id: 'mask_masked', bulk: 'masked', rss: true, quick: true, targets: MASKING },
];

/** Whether `target` is measured in `cell` in this run. */
export function runsOn(cell: Cell, target: string, quick: boolean): boolean {
  const names = (quick ? cell.quickTargets : undefined) ?? cell.targets;
  return (!quick || cell.quick) && (names === undefined || names.includes(target));
}

/**
 * The pgbench workloads and protocols `target` is measured with (each once, in grid order): what its
 * warm-up runs before the first round, so that no cell measures a gateway still compiling the code
 * of a protocol it has not served yet.
 */
export function warmups(
  cells: readonly Cell[],
  target: string,
  quick: boolean,
): { readonly workload: Workload; readonly mode: QueryMode }[] {
  const seen = new Map<string, { workload: Workload; mode: QueryMode }>();
  for (const cell of cells) {
    if (cell.kind !== 'pgbench' || !runsOn(cell, target, quick)) continue;
    const key = `${cell.workload}_${cell.mode}`;
    if (!seen.has(key)) seen.set(key, { workload: cell.workload, mode: cell.mode });
  }
  return [...seen.values()];
}

export function describeCell(cell: Cell, seconds: number): string {
  switch (cell.kind) {
    case 'pgbench':
      return `pgbench -${cell.workload} -M ${cell.mode} -c ${cell.clients} -j ${Math.min(cell.clients, 2)} -T ${seconds}`;
    case 'bulk':
      return `${BULK_SQL[cell.bulk]}, 1,000,000 rows${cell.bulk === 'masked' ? ' (email: email, ssn: redact)' : ''}`;
    default:
      return assertNever(cell);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}
