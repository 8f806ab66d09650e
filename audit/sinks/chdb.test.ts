// The embedded store for real: chDB in a temp dir, the DDL applied twice, batches inserted (and replayed),
// and every read query with every filter and cursor pagination.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChainBook } from '../chain.js';
import { toSessionClosed, toSessionOpened, toStatementRecords } from '../map.js';
import type { ObservedRequest } from '../observed.js';
import { listSessions, listStatements, sessionTimeline, statementStats } from '../queries.js';
import type { SessionRecord, StatementRecord } from '../record.js';
import type { AuditSink } from '../sink.js';
import { allowedSelect, facts, observedSession, rowsOf } from '../testing/records.js';
import { verifyChain } from '../verify.js';
import { createChdbSink } from './chdb.js';

let dir: string;
let sink: AuditSink;
/** An hour boundary a day ago: inside the retention, and every record in one hourly bucket. */
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 86_400_000;
const statements: StatementRecord[] = [];
const sessions: SessionRecord[] = [];

function denied(startedAt: number, outcome: 'blocked' | 'approval_required'): ObservedRequest {
  return {
    event: {
      statements: [
        {
          facts: facts({
            command: 'DELETE',
            reads: [],
            writes: [{ schema: 'public', table: 'orders', action: 'delete', has_where: false }],
          }),
          text: 'delete from orders',
          normalized: 'delete from orders',
        },
      ],
      verdict: {
        outcome,
        allow: false,
        decisions: [
          {
            outcome,
            allow: false,
            reasons: [{ rule: 'writes.no_where', message: 'DELETE without WHERE' }],
            approval: { required: outcome === 'approval_required', id: null },
            mask: {},
            grant_ids: [],
          },
        ],
        denial: { rule: 'writes.no_where', message: 'DELETE without WHERE' },
        wouldBlock: [],
        mask: {},
        revision: 'rev-1',
      },
      protocol: 'simple',
    },
    startedAt,
    durationMs: 0.5,
    results: [{ tag: null, rows: null, sqlstate: '42501' }],
  };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pgward-chdb-'));
  sink = createChdbSink({ path: dir, database: 'pgward_test', retentionDays: 365 });
  await sink.migrate();
  const book = createChainBook();
  const agent = observedSession('s_agent', 'svc-agent');
  const ops = observedSession('s_ops', 'svc-ops');
  const opts = { statementText: 'normalized' } as const;
  sessions.push(
    toSessionOpened(agent, { tls: true }, T0),
    toSessionOpened(ops, { tls: false }, T0),
  );
  for (let i = 0; i < 5; i++)
    statements.push(...book.seal(toStatementRecords(agent, allowedSelect(T0 + 1000 * i, i), opts)));
  statements.push(...book.seal(toStatementRecords(ops, denied(T0 + 500, 'blocked'), opts)));
  statements.push(
    ...book.seal(toStatementRecords(ops, denied(T0 + 1500, 'approval_required'), opts)),
  );
  statements.push(
    ...book.seal(toStatementRecords(ops, allowedSelect(T0 + 2500, 3, 'secrets"; drop'), opts)),
  );
  sessions.push(
    toSessionClosed(
      ops,
      { tls: false, reason: 'client terminated', sqlstate: null, bytesIn: 100, bytesOut: 200 },
      book.close('s_ops'),
      T0 + 3000,
    ),
  );
  await sink.insert('batch-1', rowsOf({ statements: statements.slice(0, 4), sessions }));
  await sink.insert('batch-2', rowsOf({ statements: statements.slice(4) }));
});

afterAll(async () => {
  await sink?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('chDB sink', () => {
  it('applies the DDL idempotently and records each migration once', async () => {
    await sink.migrate();
    await sink.migrate();
    const rows = await sink.select<{ version: number; n: string }>(
      'SELECT version, count() AS n FROM {db:Identifier}.schema_migrations GROUP BY version',
    );
    expect(rows.map((r) => [Number(r.version), Number(r.n)]).sort()).toEqual([
      [1, 1],
      [2, 1],
    ]);
  });

  it('writes statements lean: no second copy per row, compact parts, a session index', async () => {
    const [ddl] = await sink.select<{ statement: string }>(
      'SHOW CREATE TABLE {db:Identifier}.statements',
    );
    expect(ddl?.statement).not.toMatch(/PROJECTION/);
    expect(ddl?.statement).toMatch(/INDEX idx_session session_id TYPE bloom_filter GRANULARITY 1/);
    expect(ddl?.statement).toMatch(/min_bytes_for_wide_part = 134217728/);
    const parts = await sink.select<{ part_type: string }>(
      "SELECT DISTINCT part_type FROM system.parts WHERE database = {db:String} AND table = 'statements' AND active",
    );
    expect(parts).toEqual([{ part_type: 'Compact' }]);
  });

  it('stores a replayed batch (same batch id) once', async () => {
    await sink.insert('batch-2', rowsOf({ statements: statements.slice(4) }));
    await sink.insert('batch-1', rowsOf({ statements: statements.slice(0, 4), sessions }));
    const [row] = await sink.select<{ n: string }>(
      'SELECT count() AS n FROM {db:Identifier}.statements',
    );
    expect(Number(row?.n)).toBe(statements.length);
  });

  it('reads back exactly what was written, so the chain verifies', async () => {
    const timeline = await sessionTimeline(sink, 's_ops');
    const written = statements.filter((s) => s.session_id === 's_ops');
    expect(timeline.statements).toEqual(written);
    const closed = sessions.find((s) => s.event === 'closed')!;
    expect(verifyChain(timeline.statements, closed).problems).toEqual([]);
    expect(timeline.session).toMatchObject({
      identity_sub: 'svc-ops',
      tls: false,
      reason: 'client terminated',
      bytes_in: 100,
      bytes_out: 200,
      statement_count: 3,
      last_hash: written[2]!.hash,
    });
  });

  it('filters statements by every field', async () => {
    const seqs = async (filter: Parameters<typeof listStatements>[1]) =>
      (await listStatements(sink, filter)).items.map((s) => `${s.session_id}:${s.seq}`).sort();
    expect(await seqs({ sub: 'svc-ops' })).toEqual(['s_ops:1', 's_ops:2', 's_ops:3']);
    expect(await seqs({ group: 'analytics' })).toHaveLength(8);
    expect(await seqs({ group: 'nobody' })).toEqual([]);
    expect(await seqs({ outcome: ['blocked', 'approval_required'] })).toEqual([
      's_ops:1',
      's_ops:2',
    ]);
    expect(await seqs({ table: 'public.orders', sub: 'svc-ops' })).toEqual(['s_ops:1', 's_ops:2']);
    expect(await seqs({ table: 'public.secrets"; drop' })).toEqual(['s_ops:3']);
    expect(await seqs({ command: 'delete' })).toEqual(['s_ops:1', 's_ops:2']);
    expect(
      await seqs({
        from: new Date(T0 + 1000).toISOString(),
        to: new Date(T0 + 3000).toISOString(),
        sub: 'svc-agent',
      }),
    ).toEqual(['s_agent:2', 's_agent:3']);
    expect(await seqs({ sessionId: 's_agent' })).toHaveLength(5);
    expect(await seqs({ text: 'FROM SECRETS' })).toEqual(['s_ops:3']);
    expect(await seqs({ text: "x' OR 1=1 --" })).toEqual([]);
  });

  it('pages through statements newest first with a cursor, each once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const result: Awaited<ReturnType<typeof listStatements>> = await listStatements(
        sink,
        {},
        { limit: 3, cursor },
      );
      seen.push(...result.items.map((s) => `${s.ts}/${s.session_id}/${s.seq}`));
      cursor = result.next;
      if (cursor === null) break;
    }
    expect(seen).toHaveLength(statements.length);
    expect([...seen].sort().reverse()).toEqual(seen);
    await expect(listStatements(sink, {}, { cursor: 'bm90IGpzb24' })).rejects.toThrow(/cursor/);
    await expect(listStatements(sink, {}, { limit: 1001 })).rejects.toThrow(/limit/);
  });

  it('lists sessions with their open/closed state and pages them', async () => {
    const all = await listSessions(sink);
    expect(all.items.map((s) => [s.session_id, s.closed_at === null])).toEqual([
      ['s_ops', false],
      ['s_agent', true],
    ]);
    expect((await listSessions(sink, { state: 'open' })).items.map((s) => s.session_id)).toEqual([
      's_agent',
    ]);
    expect((await listSessions(sink, { sub: 'svc-ops' })).items).toHaveLength(1);
    const first = await listSessions(sink, {}, { limit: 1 });
    const second = await listSessions(sink, {}, { limit: 1, cursor: first.next });
    expect([...first.items, ...second.items].map((s) => s.session_id)).toEqual([
      's_ops',
      's_agent',
    ]);
    expect(second.next).toBeNull();
  });

  it('counts statements per bucket by outcome, identity and table', async () => {
    const range = { from: new Date(T0).toISOString(), to: new Date(T0 + 10_000).toISOString() };
    const byOutcome = await statementStats(sink, { ...range, bucketSeconds: 3600, by: 'outcome' });
    expect(byOutcome.map((r) => [r.key, r.count])).toEqual([
      ['allowed', 6],
      ['approval_required', 1],
      ['blocked', 1],
    ]);
    expect(byOutcome[0]?.bucket).toBe(
      new Date(Math.floor(T0 / 3_600_000) * 3_600_000).toISOString(),
    );
    const byTable = await statementStats(sink, {
      ...range,
      bucketSeconds: 1,
      by: 'table',
      filter: { sub: 'svc-ops' },
    });
    expect(byTable.map((r) => r.key).sort()).toEqual([
      'public.orders',
      'public.orders',
      'public.secrets"; drop',
    ]);
    await expect(
      statementStats(sink, { ...range, bucketSeconds: 0, by: 'identity' }),
    ).rejects.toThrow(/bucket/);
  });

  // Last: it adds sessions the tests above do not expect.
  it('finds every statement of a session narrowed by its span, with a clock step, or with no opened record', async () => {
    const book = createChainBook();
    const opts = { statementText: 'normalized' } as const;
    const skewed = observedSession('s_skewed', 'svc-skew');
    const orphan = observedSession('s_orphan', 'svc-orphan');
    const later = T0 + 7_200_000;
    // Recorded two hours before its session opened (the clock was stepped back), and in the span.
    const skewedRecords = [
      ...book.seal(toStatementRecords(skewed, allowedSelect(later - 7_200_000, 1), opts)),
      ...book.seal(toStatementRecords(skewed, allowedSelect(later + 500, 2), opts)),
    ];
    const orphanRecords = book.seal(toStatementRecords(orphan, allowedSelect(later, 3), opts));
    const events = [
      toSessionOpened(skewed, { tls: false }, later),
      toSessionClosed(
        skewed,
        { tls: false, reason: 'client terminated', sqlstate: null, bytesIn: 0, bytesOut: 0 },
        book.close('s_skewed'),
        later + 1000,
      ),
    ];
    await sink.insert(
      'batch-span',
      rowsOf({ statements: [...skewedRecords, ...orphanRecords], sessions: events }),
    );
    expect((await sessionTimeline(sink, 's_skewed')).statements).toEqual(skewedRecords);
    const orphanTimeline = await sessionTimeline(sink, 's_orphan');
    expect(orphanTimeline.session).toBeNull();
    expect(orphanTimeline.statements).toEqual(orphanRecords);
    // The closed record's last hash still verifies the chain the narrowed query returned.
    expect(verifyChain(skewedRecords, events[1]!).problems).toEqual([]);
  });
});
