// Test builders: observed sessions and requests shaped like the gateway's, and sealed records made from
// them through the real mapping and chain (used by the unit tests and the SIGKILL child script).

import { createChainBook } from '../chain.js';
import { sessionLine, statementLine } from '../encode.js';
import { toStatementRecords } from '../map.js';
import type { ObservedFacts, ObservedRequest, ObservedSession } from '../observed.js';
import type { AuditEntry, AuditRows, SessionRecord, StatementRecord } from '../record.js';
import { bytesOf } from '../row-queue.js';

export function observedSession(id = 's_test', sub = 'svc-agent'): ObservedSession {
  return {
    id,
    identity: { sub, groups: ['analytics'], issuer: 'pgward:static', via: 'password' },
    database: 'app',
    applicationName: 'vitest',
    clientAddr: '127.0.0.1',
  };
}

export function facts(overrides: Partial<ObservedFacts> = {}): ObservedFacts {
  return {
    sha256: 'a'.repeat(64),
    fingerprint: 'fp0001',
    index: 0,
    count: 1,
    command: 'SELECT',
    reads: [{ schema: 'public', table: 'orders', columns: ['id'] }],
    writes: [],
    functions: [],
    flags: [],
    estimated_rows: null,
    ...overrides,
  };
}

const allowDecision = {
  outcome: 'allowed',
  allow: true,
  reasons: [],
  approval: { required: false, id: null },
  mask: {},
  grant_ids: ['g-orders'],
};

/** A request of one allowed SELECT answering `rows` rows. */
export function allowedSelect(startedAt: number, rows = 1, table = 'orders'): ObservedRequest {
  return {
    event: {
      statements: [
        {
          facts: facts({ reads: [{ schema: 'public', table, columns: ['id'] }] }),
          text: `select id from ${table} where id = 42`,
          normalized: `select id from ${table} where id = $1`,
        },
      ],
      verdict: {
        outcome: 'allowed',
        allow: true,
        decisions: [allowDecision],
        denial: null,
        wouldBlock: [],
        mask: {},
        revision: 'rev-1',
      },
      protocol: 'simple',
    },
    startedAt,
    durationMs: 1.25,
    results: [{ tag: `SELECT ${rows}`, rows, sqlstate: null }],
  };
}

/** `n` sealed statement records of one session, one allowed SELECT each, 1 ms apart. */
export function sealedRecords(sessionId: string, n: number, start = Date.now()): StatementRecord[] {
  const book = createChainBook();
  const session = observedSession(sessionId);
  const out: StatementRecord[] = [];
  for (let i = 0; i < n; i++) {
    const unsealed = toStatementRecords(session, allowedSelect(start + i, i), {
      statementText: 'normalized',
    });
    out.push(...book.seal(unsealed));
  }
  return out;
}

/** Records as the batch a sink inserts (their table lines). */
export function rowsOf(records: {
  readonly statements?: readonly StatementRecord[];
  readonly sessions?: readonly SessionRecord[];
}): AuditRows {
  const statements = (records.statements ?? []).map(statementLine);
  const sessions = (records.sessions ?? []).map(sessionLine);
  return {
    statements: bytesOf(statements),
    sessions: bytesOf(sessions),
    rows: statements.length + sessions.length,
  };
}

/** A sealed statement record as the entry the writer takes. */
export const statementEntry = (record: StatementRecord): AuditEntry => ({
  table: 'statements',
  row: statementLine(record),
});
