// The auditor routes over a real chDB store seeded through the real mapping and hash chain: filters,
// cursor pagination walked to the end (ties in ts across sessions included), problems for bad input,
// and every answer checked against the schema the OpenAPI document gives for it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChainBook } from '../../audit/chain.js';
import { toSessionClosed, toSessionOpened, toStatementRecords } from '../../audit/map.js';
import type { ObservedRequest } from '../../audit/observed.js';
import type { SessionRecord, StatementRecord } from '../../audit/record.js';
import type { AuditSink } from '../../audit/sink.js';
import { createChdbSink } from '../../audit/sinks/chdb.js';
import { allowedSelect, facts, observedSession, rowsOf } from '../../audit/testing/records.js';
import { silentLogger } from '../../lib/log.js';
import { openApiValidator } from '../../test/harness/openapi.js';
import type { VerifyBearer } from '../auth.js';
import { createApi } from '../create-api.js';
import { auditRoutes } from './audit.js';
import { apiDocument } from './audit-ops.js';

const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
const GRANTS = [{ id: 'g-orders', subject: { sub: 'svc-agent' } }];
const verifyBearer: VerifyBearer = async (token) => {
  if (token === 'auditor-token')
    return { ok: true, identity: { sub: 'aud', groups: ['auditors'] } };
  if (token === 'analyst-token')
    return { ok: true, identity: { sub: 'ana', groups: ['analytics'] } };
  return { ok: false, reason: 'unknown token' };
};
const validator = openApiValidator(apiDocument('test'));

let dir: string;
let sink: AuditSink;
const statements: StatementRecord[] = [];
const sessions: SessionRecord[] = [];
let app: ReturnType<typeof createApi>;

/** A request of one statement with the given outcome (blocked DELETE or masked SELECT). */
function judged(startedAt: number, outcome: 'blocked' | 'masked'): ObservedRequest {
  const blocked = outcome === 'blocked';
  const decision = {
    outcome,
    allow: !blocked,
    reasons: blocked ? [{ rule: 'guardrail.unbounded_delete', message: 'no WHERE' }] : [],
    approval: { required: false, id: null },
    mask: blocked ? {} : { 'public.customers.email': 'redact' },
    grant_ids: [],
  };
  return {
    event: {
      statements: [
        {
          facts: blocked
            ? facts({
                command: 'DELETE',
                reads: [],
                writes: [{ schema: 'public', table: 'orders', action: 'delete', has_where: false }],
              })
            : facts({ reads: [{ schema: 'public', table: 'customers', columns: ['email'] }] }),
          text: blocked ? 'delete from orders' : 'select email from customers',
          normalized: blocked ? 'delete from orders' : 'select email from customers',
        },
      ],
      verdict: {
        outcome,
        allow: !blocked,
        decisions: [decision],
        denial: blocked ? { rule: 'guardrail.unbounded_delete', message: 'no WHERE' } : null,
        wouldBlock: [],
        mask: decision.mask,
        revision: 'rev-1',
      },
      protocol: 'simple',
    },
    startedAt,
    durationMs: 0.5,
    results: [
      blocked
        ? { tag: null, rows: null, sqlstate: '42501' }
        : { tag: 'SELECT 2', rows: 2, sqlstate: null },
    ],
  };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pgward-api-audit-'));
  sink = createChdbSink({ path: dir, database: 'pgward', retentionDays: 365 });
  await sink.migrate();
  const book = createChainBook();
  const opts = { statementText: 'normalized' } as const;
  const agent = observedSession('s_a', 'svc-agent');
  const bi = observedSession('s_b', 'svc-bi');
  const ops = observedSession('s_c', 'svc-ops');
  for (const s of [agent, bi, ops]) sessions.push(toSessionOpened(s, { tls: true }, T0 - 1000));
  // The same timestamps in two sessions: pagination must order and split ties without loss.
  for (let i = 0; i < 40; i++) {
    statements.push(...book.seal(toStatementRecords(agent, allowedSelect(T0 + i, 1), opts)));
    statements.push(
      ...book.seal(toStatementRecords(bi, allowedSelect(T0 + i, 2, 'invoices'), opts)),
    );
  }
  for (let i = 0; i < 3; i++)
    statements.push(...book.seal(toStatementRecords(ops, judged(T0 + 100 + i, 'blocked'), opts)));
  for (let i = 0; i < 2; i++)
    statements.push(...book.seal(toStatementRecords(ops, judged(T0 + 200 + i, 'masked'), opts)));
  const close = {
    tls: true,
    reason: 'client terminated',
    sqlstate: null,
    bytesIn: 9,
    bytesOut: 99,
  };
  sessions.push(toSessionClosed(ops, close, book.close('s_c'), T0 + 300));
  await sink.insert('seed', rowsOf({ statements, sessions }));
  app = createApi({
    log: silentLogger,
    routes: [
      auditRoutes({
        store: sink,
        verifyBearer,
        auditorGroup: 'auditors',
        activeGrants: () => GRANTS,
        log: silentLogger,
        now: () => T0 + 3_600_000,
      }),
    ],
  });
});

afterAll(async () => {
  await sink?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** GETs as the auditor and checks the answer against the documented schema. */
async function get(url: string, token = 'auditor-token', docPath?: string) {
  const res = await app.request(url, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as Record<string, unknown>;
  const type = res.headers.get('content-type') ?? '';
  const documented = docPath ?? new URL(url, 'http://x').pathname;
  expect(validator.check(documented, 'get', res.status, type, body), url).toEqual([]);
  return { status: res.status, type, body, headers: res.headers };
}
const keys = (body: Record<string, unknown>) =>
  (body.items as StatementRecord[]).map((r) => `${r.session_id}:${r.seq}`);

describe('GET /v1/statements', () => {
  it('walks every page: each record exactly once, newest first', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '' : `&cursor=${cursor}`;
      const { status, body } = await get(`/v1/statements?limit=7${query}`);
      expect(status).toBe(200);
      seen.push(...keys(body));
      cursor = body.next as string | null;
      pages += 1;
    } while (cursor !== null && pages < 100);
    expect(pages).toBe(Math.ceil(statements.length / 7));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual(statements.map((r) => `${r.session_id}:${r.seq}`).sort());
  });

  it('filters by identity, outcome, table, command, session, text and time', async () => {
    const count = async (q: string) => (await get(`/v1/statements?limit=1000&${q}`)).body;
    expect(keys(await count('identity=svc-bi'))).toHaveLength(40);
    expect(keys(await count('outcome=blocked'))).toHaveLength(3);
    expect(keys(await count('outcome=blocked,masked'))).toHaveLength(5);
    expect(keys(await count('table=public.invoices'))).toHaveLength(40);
    expect(keys(await count('command=delete'))).toHaveLength(3);
    expect(keys(await count('session=s_c'))).toEqual(['s_c:5', 's_c:4', 's_c:3', 's_c:2', 's_c:1']);
    expect(keys(await count('q=EMAIL%20from'))).toEqual(['s_c:5', 's_c:4']);
    const from = new Date(T0 + 10).toISOString();
    const to = new Date(T0 + 20).toISOString();
    expect(keys(await count(`from=${from}&to=${to}`))).toHaveLength(20);
  });

  it('answers malformed parameters with problem details', async () => {
    for (const [q, detail] of [
      ['outcome=nope', /outcome/],
      ['limit=0', /limit/],
      ['limit=abc', /limit/],
      ['from=yesterday', /from/],
      ['cursor=bm9wZQ', /cursor/],
      ['identiy=svc-bi', /unknown query parameter "identiy"/],
      ['identity=a&identity=b', /repeated/],
    ] as const) {
      const { status, type, body } = await get(`/v1/statements?${q}`);
      expect([q, status, type]).toEqual([q, 400, 'application/problem+json']);
      expect(body).toMatchObject({ type: 'about:blank', title: 'Bad Request', status: 400 });
      expect(String(body.detail)).toMatch(detail);
    }
  });

  it('requires an auditor token: 401 without or with a bad one, 403 without the group', async () => {
    const none = await app.request('/v1/statements');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="pgward"');
    expect(none.headers.get('content-type')).toBe('application/problem+json');
    const bad = await get('/v1/statements', 'forged');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(bad.body.detail).toBe('the access token is not valid');
    const analyst = await get('/v1/statements', 'analyst-token');
    expect(analyst.status).toBe(403);
    expect(analyst.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });
});

describe('sessions, timeline, stats and grants', () => {
  it('lists sessions newest first, by state, walking pages of one', async () => {
    const all: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const { body } = await get(`/v1/sessions?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...(body.items as { session_id: string }[]).map((s) => s.session_id));
      cursor = body.next as string | null;
      if (cursor === null) break;
    }
    expect(all.sort()).toEqual(['s_a', 's_b', 's_c']);
    const closed = await get('/v1/sessions?state=closed');
    expect(closed.body.items).toMatchObject([{ session_id: 's_c', statement_count: 5 }]);
  });

  it("returns one session's timeline in seq order, 404 for an unknown one", async () => {
    const { body } = await get('/v1/sessions/s_c', undefined, '/v1/sessions/{id}');
    const timeline = body.statements as StatementRecord[];
    expect(timeline.map((r) => [r.seq, r.outcome])).toEqual([
      [1, 'blocked'],
      [2, 'blocked'],
      [3, 'blocked'],
      [4, 'masked'],
      [5, 'masked'],
    ]);
    expect(body.session).toMatchObject({ session_id: 's_c', reason: 'client terminated' });
    const part = await get('/v1/sessions/s_c?after=3&limit=1', undefined, '/v1/sessions/{id}');
    expect([(part.body.statements as StatementRecord[])[0]?.seq, part.body.next]).toEqual([4, '4']);
    const missing = await get('/v1/sessions/nope', undefined, '/v1/sessions/{id}');
    expect([missing.status, missing.type]).toEqual([404, 'application/problem+json']);
  });

  it('counts statements per bucket by outcome and by table', async () => {
    const from = new Date(T0).toISOString();
    const to = new Date(T0 + 3_600_000).toISOString();
    const { body } = await get(`/v1/stats?from=${from}&to=${to}&bucket=3600`);
    expect(body).toMatchObject({ bucket_seconds: 3600, by: 'outcome' });
    const rows = body.rows as { key: string; count: number }[];
    expect(Object.fromEntries(rows.map((r) => [r.key, r.count]))).toEqual({
      allowed: 80,
      blocked: 3,
      masked: 2,
    });
    const byTable = await get(`/v1/stats?from=${from}&to=${to}&by=table&outcome=masked`);
    expect(byTable.body.rows).toMatchObject([{ key: 'public.customers', count: 2 }]);
    const defaults = await get('/v1/stats');
    expect(defaults.body).toMatchObject({ bucket_seconds: 720 });
    const day = new Date(T0 + 86_400_000).toISOString();
    const tooMany = await get(`/v1/stats?from=${from}&to=${day}&bucket=1&by=identity`);
    expect([tooMany.status, tooMany.body.detail]).toEqual([
      400,
      'the range must be positive and hold at most 10000 buckets',
    ]);
  });

  it('lists the active grants', async () => {
    const res = await app.request('/v1/grants', {
      headers: { authorization: 'Bearer auditor-token' },
    });
    expect(await res.json()).toEqual({ items: GRANTS });
  });
});
