// Runs a table subset through an external driver process (psql, psycopg): one process and one
// connection per session, all rows in order, then a last query that proves the connection survived.
// The subset changes nothing, so the database must be exactly as before once every session ran.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Endpoint, endpointUrl, libpqEnv } from '../drivers/driver-env.js';
import { lines, runPsql } from '../drivers/psql.js';
import { PYTHON } from '../drivers/python.js';
import { run } from '../exec.js';
import { expectRowOutcome } from './expect-row.js';
import type { PolicyTableEnv } from './fixture.js';
import type { PolicyRow, RowResult } from './row.js';
import { bySession } from './run-live.js';

export interface BatchOutcome {
  readonly results: readonly RowResult[];
  readonly alive: boolean;
}

export type RunBatch = (e: Endpoint, rows: readonly PolicyRow[]) => Promise<BatchOutcome>;

export function describeBatchTable(
  driver: string,
  env: () => PolicyTableEnv,
  rows: readonly PolicyRow[],
  runBatch: RunBatch,
): void {
  describe(driver, () => {
    const results = new Map<string, RowResult>();
    const alive = new Map<string, boolean>();
    let before = '';
    let after = '';
    beforeAll(async () => {
      before = await env().fingerprint();
      for (const [key, sessionRows] of bySession(rows)) {
        const first = sessionRows[0] as PolicyRow;
        const e = env().endpoint(first.policy ?? 'strict', first.user ?? 'agent');
        const outcome = await runBatch(e, sessionRows);
        sessionRows.forEach((row, i) => {
          const r = outcome.results[i];
          if (r !== undefined) results.set(row.id, r);
        });
        alive.set(key, outcome.alive);
      }
      after = await env().fingerprint();
    });
    afterAll(async () => {
      if (before !== after) await env().reset();
    });

    for (const row of rows) {
      const test = row.bug === undefined ? it : it.fails;
      test(row.id, () => {
        const result = results.get(row.id);
        expect(result, `${row.id}: no result (the session died before it?)`).toBeDefined();
        expectRowOutcome(row, result as RowResult);
        for (const file of row.absentFiles ?? []) {
          expect(existsSync(file), `${row.id} created ${file}`).toBe(false);
        }
      });
    }

    it('kept every session usable after its refusals', () => {
      expect([...alive.values()].every(Boolean), JSON.stringify([...alive])).toBe(true);
      expect(alive.size).toBe(bySession(rows).size);
    });

    it('left the database exactly as it found it', () => {
      expect(after).toBe(before);
    });
  });
}

const MARK = '@@pgward-row';

/**
 * psql reads a script on stdin; after each statement it echoes the ERROR and SQLSTATE variables and
 * LAST_ERROR_MESSAGE (psql has no variable for the HINT, so HINTs are not checked here).
 */
export const runPsqlBatch: RunBatch = async (e, rows) => {
  const script: string[] = [];
  rows.forEach((row, i) => {
    // The terminator goes on its own line: a statement may end in a -- comment.
    script.push(row.sql.replace(/;\s*$/, ''), ';');
    // Had a COPY FROM STDIN been let through, psql would read data up to here.
    if (/\bfrom\s+stdin\b/i.test(row.sql)) script.push('\\.');
    script.push(
      `\\echo ${MARK} ${i} :ERROR :SQLSTATE`,
      `\\echo ${MARK}-message ${i} :LAST_ERROR_MESSAGE`,
    );
  });
  script.push(`\\echo ${MARK}-end`, "SELECT 'alive';");
  const out = await runPsql(e, [], { input: `${script.join('\n')}\n`, onErrorStop: false });
  const results: RowResult[] = [];
  const messages = new Map<number, string>();
  let ended = false;
  let alive = false;
  for (const line of lines(out.stdout)) {
    const [mark, index, ...rest] = line.split(' ');
    if (mark === MARK) {
      const failed = rest[0] === 'true';
      results[Number(index)] = {
        ok: !failed,
        sqlstate: failed ? (rest[1] ?? null) : null,
        message: null,
      };
    } else if (mark === `${MARK}-message`) messages.set(Number(index), rest.join(' '));
    else if (mark === `${MARK}-end`) ended = true;
    else if (ended && line === 'alive') alive = true;
  }
  return {
    results: results.map((r, i) => (r.ok ? r : { ...r, message: messages.get(i) ?? null })),
    alive,
  };
};

const SCRIPT = fileURLToPath(new URL('./policy_table.py', import.meta.url));

export const runPsycopgBatch: RunBatch = async (e, rows) => {
  const stdout = await run(PYTHON, [SCRIPT], {
    env: libpqEnv(e, { PGWARD_DSN: endpointUrl(e), PYTHONDONTWRITEBYTECODE: '1' }),
    input: JSON.stringify({ statements: rows.map((r) => r.sql) }),
    timeoutMs: 60_000,
  });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  const parsed = JSON.parse(last) as { results: RowResult[]; alive: string };
  return { results: parsed.results, alive: parsed.alive === 'alive' };
};
