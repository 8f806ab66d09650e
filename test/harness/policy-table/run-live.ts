// Runs table rows through an in-process driver, one test per row on one connection per session: each
// refusal must leave the database (superuser fingerprint), the server files and the connection (same
// backend, role and search_path) exactly as they were, and the next row runs on that same connection.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoint } from '../drivers/driver-env.js';
import { expectRowOutcome } from './expect-row.js';
import type { PolicyTableEnv } from './fixture.js';
import { needsSimple, type PolicyRow, type RowResult, sessionOf } from './row.js';

export interface SessionState {
  readonly pid: number;
  readonly role: string;
  readonly path: string;
}

/** The statement every driver runs to read its session state through the gateway. */
export const STATE_SQL =
  "SELECT pg_backend_pid() AS pid, current_user::text AS role, current_setting('search_path') AS path";

export interface RowSession {
  run(row: PolicyRow): Promise<RowResult>;
  state(): Promise<SessionState>;
  close(): Promise<void>;
}

export type OpenRowSession = (endpoint: Endpoint) => Promise<RowSession>;

/** Groups rows by session, keeping table order inside each and first-seen order between them. */
export function bySession(rows: readonly PolicyRow[]): Map<string, PolicyRow[]> {
  const sessions = new Map<string, PolicyRow[]>();
  for (const row of rows) {
    const key = sessionOf(row);
    const list = sessions.get(key) ?? [];
    list.push(row);
    sessions.set(key, list);
  }
  return sessions;
}

export function describeLiveTable(
  driver: string,
  env: () => PolicyTableEnv,
  rows: readonly PolicyRow[],
  open: OpenRowSession,
  /** The driver sends rows not marked `simple` over the extended protocol. */
  extended: boolean,
): void {
  // The last fingerprint and session state seen, reused as the "before" of the next refusal until an
  // allowed row (which may change either) runs.
  let fingerprint: string | null = null;
  for (const [key, sessionRows] of bySession(rows)) {
    describe(`${driver} — ${key}`, () => {
      let session: RowSession;
      let initial: SessionState;
      let state: SessionState | null = null;
      const first = sessionRows[0] as PolicyRow;
      beforeAll(async () => {
        session = await open(env().endpoint(first.policy ?? 'strict', first.user ?? 'agent'));
        initial = await session.state();
        state = initial;
      });
      afterAll(async () => {
        await session?.close();
      });

      for (const row of sessionRows) {
        const known =
          row.bug !== undefined || (row.extendedBug !== undefined && !needsSimple(row) && extended);
        const test = known ? it.fails : it;
        test(row.id, async () => {
          const refused = row.expect !== 'allowed';
          const watched = refused || row.unchanged === true;
          if (watched && fingerprint === null) fingerprint = await env().fingerprint();
          if (refused && state === null) state = await session.state();
          const before = watched ? fingerprint : null;
          const stateBefore = refused ? state : null;
          fingerprint = null;
          state = null;
          const result = await session.run(row);
          const after = watched ? await env().fingerprint() : null;
          // A refusal that changed something anyway must not spoil the rows after it.
          if (before !== after) await env().reset();
          else fingerprint = after;
          expectRowOutcome(row, result);
          expect(after, `${row.id} changed the database`).toBe(before);
          for (const file of row.absentFiles ?? []) {
            expect(existsSync(file), `${row.id} created ${file}`).toBe(false);
          }
          if (stateBefore !== null) {
            const now = await session.state();
            expect(now, `${row.id}: the session must stay usable and unchanged`).toEqual(
              stateBefore,
            );
            expect(now.pid).toBe(initial.pid);
            state = now;
          }
        });
      }
    });
  }
}
