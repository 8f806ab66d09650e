// Record mapping: one record per statement, outcomes (allowed, masked, blocked, approval_required, error),
// rule ids, shadow rules, and what must never reach the log (literals, settings values).
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import schema from '../schemas/audit-record.schema.json' with { type: 'json' };
import { createChainBook } from './chain.js';
import { toSessionClosed, toSessionOpened, toStatementRecords } from './map.js';
import type { ObservedDecision, ObservedRequest, ObservedStatement } from './observed.js';
import { facts, observedSession } from './testing/records.js';

const session = observedSession('s_map');
const normalized = { statementText: 'normalized' } as const;

function decision(overrides: Partial<ObservedDecision> = {}): ObservedDecision {
  return {
    outcome: 'allowed',
    allow: true,
    reasons: [],
    approval: { required: false, id: null },
    mask: {},
    grant_ids: ['g1'],
    ...overrides,
  };
}

function stmt(command: string, text: string, normalizedText: string, index = 0, count = 1) {
  const table = { schema: 'public', table: 'orders' };
  return {
    facts: facts({
      command,
      index,
      count,
      reads: command === 'SELECT' ? [{ ...table, columns: ['*'] }] : [],
      writes:
        command === 'UPDATE'
          ? [{ ...table, action: 'update', has_where: true, columns: ['v'] }]
          : [],
    }),
    text,
    normalized: normalizedText,
  } satisfies ObservedStatement;
}

function request(
  statements: ObservedStatement[],
  decisions: ObservedDecision[],
  results: ObservedRequest['results'],
  denial: { rule: string; message: string } | null = null,
  outcome = denial === null ? 'allowed' : 'blocked',
): ObservedRequest {
  return {
    event: {
      statements,
      verdict: {
        outcome,
        allow: denial === null,
        decisions,
        denial,
        wouldBlock: [],
        mask: {},
        revision: 'rev-7',
      },
      protocol: 'simple',
    },
    startedAt: Date.parse('2026-03-04T05:06:07.089Z'),
    durationMs: 2.0004,
    results,
  };
}

const three = [
  stmt(
    'SELECT',
    "select * from orders where note = 'hunter2'",
    'select * from orders where note = $1',
    0,
    3,
  ),
  stmt(
    'UPDATE',
    "update orders set v = 'x' where id = 1",
    'update orders set v = $1 where id = $2',
    1,
    3,
  ),
  stmt('SELECT', 'select 1', 'select $1', 2, 3),
];

describe('statement records', () => {
  it('maps a three-statement query to three records in order, with tags, tables and the mask', () => {
    const records = toStatementRecords(
      session,
      request(
        three,
        [
          decision({ outcome: 'masked', mask: { 'public.orders.note': 'redact' } }),
          decision(),
          decision(),
        ],
        [
          { tag: 'SELECT 2', rows: 2, sqlstate: null },
          { tag: 'UPDATE 1', rows: 1, sqlstate: null },
          { tag: 'SELECT 1', rows: 1, sqlstate: null },
        ],
      ),
      normalized,
    );
    expect(records.map((r) => [r.statement_index, r.command, r.outcome, r.rows])).toEqual([
      [0, 'SELECT', 'masked', 2],
      [1, 'UPDATE', 'allowed', 1],
      [2, 'SELECT', 'allowed', 1],
    ]);
    expect(records[0]).toMatchObject({
      ts: '2026-03-04T05:06:07.089Z',
      identity_sub: 'svc-agent',
      tables_read: ['public.orders'],
      tables_written: [],
      masked_columns: ['public.orders.note'],
      statement: 'select * from orders where note = $1',
      duration_ms: 2,
      bundle_revision: 'rev-7',
      grant_ids: ['g1'],
      executed: true,
    });
    expect(records[1]?.tables_written).toEqual(['public.orders']);
  });

  it('gives every statement of a denied query the denial outcome and rule, none executed', () => {
    const records = toStatementRecords(
      session,
      request(
        three,
        [
          decision(),
          decision({
            allow: false,
            outcome: 'blocked',
            reasons: [{ rule: 'writes.table', message: 'no' }],
          }),
          decision(),
        ],
        [{ tag: null, rows: null, sqlstate: '42501' }],
        { rule: 'writes.table', message: 'no grant to write public.orders' },
      ),
      normalized,
    );
    expect(records).toHaveLength(3);
    for (const r of records) {
      expect(r).toMatchObject({
        outcome: 'blocked',
        executed: false,
        rows: null,
        sqlstate: '42501',
        reason: 'no grant to write public.orders',
        masked_columns: [],
      });
      expect(r.rule_ids).toContain('writes.table');
    }
  });

  it('records approval_required, the approval id, and shadow rules as would_block', () => {
    const [denied] = toStatementRecords(
      session,
      request(
        [three[1]!],
        [
          decision({
            allow: false,
            outcome: 'approval_required',
            reasons: [
              { rule: 'approval.required', message: 'needs approval' },
              { rule: 'shadow.big_update', message: 'would block', enforce: false },
            ],
          }),
        ],
        [{ tag: null, rows: null, sqlstate: '42501' }],
        { rule: 'approval.required', message: 'needs approval' },
        'approval_required',
      ),
      normalized,
    );
    expect(denied).toMatchObject({
      outcome: 'approval_required',
      rule_ids: ['approval.required'],
      would_block: ['shadow.big_update'],
    });
    const [approved] = toStatementRecords(
      session,
      request(
        [three[1]!],
        [decision({ approval: { required: true, id: 'apr-1' } })],
        [{ tag: 'UPDATE 1', rows: 1, sqlstate: null }],
      ),
      normalized,
    );
    expect(approved).toMatchObject({ outcome: 'allowed', approval_id: 'apr-1' });
  });

  it("marks an allowed statement the upstream failed 'error', and the ones after it not executed", () => {
    const records = toStatementRecords(
      session,
      request(
        three,
        [decision(), decision(), decision()],
        [
          { tag: 'SELECT 2', rows: 2, sqlstate: null },
          { tag: null, rows: null, sqlstate: '23505' },
        ],
      ),
      normalized,
    );
    expect(records.map((r) => [r.outcome, r.sqlstate, r.executed])).toEqual([
      ['allowed', null, true],
      ['error', '23505', true],
      ['allowed', null, false],
    ]);
  });

  it('keeps literals out of the record unless statement_text is raw', () => {
    const done = request([three[0]!], [decision()], [{ tag: 'SELECT 0', rows: 0, sqlstate: null }]);
    const plain = JSON.stringify(toStatementRecords(session, done, normalized));
    expect(plain).not.toContain('hunter2');
    const [raw] = toStatementRecords(session, done, { statementText: 'raw' });
    expect(raw).toMatchObject({ statement: three[0]!.text, statement_form: 'raw' });
  });

  it('redacts settings values in the facts and copies only contract fields', () => {
    const set: ObservedStatement = {
      facts: {
        ...facts({ command: 'SET', reads: [], flags: ['set_config'] }),
        settings: [
          { name: 'app.token', value: 's3cr3t', local: true },
          { name: 'work_mem', value: null },
        ],
        literal: 's3cr3t',
      } as ObservedStatement['facts'],
      text: "set local app.token = 's3cr3t'",
      normalized: 'set local app.token = $1',
    };
    const [r] = toStatementRecords(
      session,
      request([set], [decision()], [{ tag: 'SET', rows: null, sqlstate: null }]),
      normalized,
    );
    expect(JSON.stringify(r)).not.toContain('s3cr3t');
    expect(r?.facts?.settings).toEqual([
      { name: 'app.token', value: '[redacted]', local: true },
      { name: 'work_mem', value: null },
    ]);
  });

  it('records a request the gate passed unjudged as one UNKNOWN statement', () => {
    const records = toStatementRecords(
      session,
      {
        event: null,
        startedAt: 0,
        durationMs: 0,
        results: [{ tag: null, rows: null, sqlstate: '34000' }],
      },
      normalized,
    );
    expect(records).toEqual([
      expect.objectContaining({
        command: 'UNKNOWN',
        outcome: 'error',
        sqlstate: '34000',
        facts: null,
      }),
    ]);
  });

  it('produces records that satisfy schemas/audit-record.schema.json', () => {
    const validate = new Ajv({ strict: true, allowUnionTypes: true }).compile(schema);
    const book = createChainBook();
    const records = book.seal(
      toStatementRecords(
        session,
        request(
          three,
          [decision(), decision(), decision()],
          [{ tag: 'SELECT 1', rows: 1, sqlstate: null }],
        ),
        normalized,
      ),
    );
    const opened = toSessionOpened(session, { tls: true }, 1000);
    const closed = toSessionClosed(
      session,
      { tls: true, reason: 'client terminated', sqlstate: null, bytesIn: 10, bytesOut: 20 },
      book.close(session.id),
      2000,
    );
    for (const r of [...records, opened, closed])
      expect([validate(r), validate.errors]).toEqual([true, null]);
    expect(closed).toMatchObject({ statement_count: 3, last_hash: records[2]?.hash });
  });
});
