// The bulk reads: 1,000,000 rows (pgbench_accounts at scale 10, or the 6-column people table and its
// unmasked twin) streamed through one connection and discarded by a client that only counts messages,
// so the client costs as little as possible.
import { PEOPLE } from './policy.js';
import { type Endpoint, WireClient } from './wire-client.js';

export type BulkKind = 'copy' | 'select' | 'unmasked' | 'masked';

export const BULK_SQL: Readonly<Record<BulkKind, string>> = {
  copy: 'COPY (SELECT * FROM pgbench_accounts) TO STDOUT',
  select: 'SELECT * FROM pgbench_accounts',
  unmasked: `SELECT * FROM ${PEOPLE.plain}`,
  masked: `SELECT * FROM ${PEOPLE.masked}`,
};

export interface BulkSample {
  readonly rows: number;
  readonly rowsPerSec: number;
  /** Wire bytes received (protocol framing included), in 10^6 bytes per second. */
  readonly mbPerSec: number;
  readonly seconds: number;
  /** Peak resident-set growth of the target process during the read (kB), when measured. */
  readonly rssGrowthKb?: number;
}

/** Connection setup is outside the timed part: only the query, from send to ReadyForQuery, counts. */
export async function runBulk(ep: Endpoint, kind: BulkKind): Promise<BulkSample> {
  const client = await WireClient.connect(ep);
  try {
    const { rows, bytes, seconds } = await client.query(BULK_SQL[kind]);
    return { rows, seconds, rowsPerSec: rows / seconds, mbPerSec: bytes / 1e6 / seconds };
  } finally {
    client.close();
  }
}
