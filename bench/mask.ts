// The masking workload: a 1,000,000-row, 6-column people table (the policy masks email and ssn) and its
// unmasked twin with the same rows; and the peak resident-set growth of a process during one read.
import { readFile, writeFile } from 'node:fs/promises';
import { PEOPLE } from './policy.js';
import { type Endpoint, WireClient } from './wire-client.js';

export const PEOPLE_ROWS = 1_000_000;

/** Creates both tables as the endpoint's role (the upstream role, so every target may read them). */
export async function createPeopleTables(ep: Endpoint): Promise<void> {
  const client = await WireClient.connect(ep);
  try {
    for (const table of [PEOPLE.masked, PEOPLE.plain]) {
      await client.query(
        `CREATE TABLE ${table} (id int PRIMARY KEY, name text, email text, ssn text, score int, note text)`,
      );
    }
    // About 100 bytes a row: realistic widths for names, addresses, national ids and a free-text note.
    await client.query(`INSERT INTO ${PEOPLE.masked}
      SELECT i, 'Person ' || i, 'user' || i || '@example' || (i % 97) || '.com',
             lpad((i % 900 + 100)::text, 3, '0') || '-' || lpad((i % 89 + 10)::text, 2, '0') || '-' ||
             lpad((i % 9000 + 1000)::text, 4, '0'),
             ((i::bigint * 7919) % 1000)::int, md5(i::text)
      FROM generate_series(1, ${PEOPLE_ROWS}) AS i`);
    await client.query(`INSERT INTO ${PEOPLE.plain} SELECT * FROM ${PEOPLE.masked}`);
    // Frozen and analyzed now, so no read in the measured rounds sets hint bits (a write) first.
    for (const table of [PEOPLE.masked, PEOPLE.plain]) {
      await client.query(`VACUUM (FREEZE, ANALYZE) ${table}`);
    }
  } finally {
    client.close();
  }
}

/**
 * Runs `fn` and returns its result with the growth of `pid`'s peak resident set over its resident set
 * before (VmHWM after − VmRSS before, kB). The peak is reset first through /proc/<pid>/clear_refs (5),
 * so earlier peaks do not count; where that is refused, the growth is not reported.
 */
export async function peakRssDuring<T>(
  pid: number,
  fn: () => Promise<T>,
): Promise<{ value: T; growthKb: number | null }> {
  let reset = true;
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5');
  } catch {
    reset = false;
  }
  const before = await statusKb(pid, 'VmRSS');
  const value = await fn();
  const peak = await statusKb(pid, 'VmHWM');
  return { value, growthKb: reset ? Math.max(0, peak - before) : null };
}

async function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
  if (kb === undefined) throw new Error(`no ${field} for pid ${pid}`);
  return Number(kb);
}
