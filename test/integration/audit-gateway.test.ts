// The audit trail end to end: a real bundle, real PostgreSQL and node-postgres through the gateway, the
// audit observer, writer and chDB store; records read back through audit/queries.ts. Then a writer
// process killed with SIGKILL while its store fails: its spool replays with nothing lost or duplicated.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  listSessions,
  listStatements,
  sessionTimeline,
  statementStats,
} from '../../audit/queries.js';
import type { StatementRecord } from '../../audit/record.js';
import type { AuditSink } from '../../audit/sink.js';
import { createChdbSink } from '../../audit/sinks/chdb.js';
import { verifySession } from '../../audit/verify.js';
import { type AuditWriter, createAuditWriter } from '../../audit/writer.js';
import { silentLogger } from '../../lib/log.js';
import { type AuditObserver, createAuditObserver } from '../../proxy/audit-observer.js';
import { startGateway, type TestGateway } from '../harness/gateway.js';
import { createTestPolicy, isoIn, type TestPolicy } from '../harness/policy.js';

const info = inject('pg');
const SECRET = 'hunter2-literal-secret';
const APPROVED_DELETE = 'delete from audit_orders where id = 7';
let root: string;
let policy: TestPolicy;
let gw: TestGateway;
let admin: pg.Client;
let sink: AuditSink;
let writer: AuditWriter;
let observer: AuditObserver;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pgward-audit-'));
  admin = new pg.Client({ host: info.host, port: info.port, user: 'postgres', database: 'app' });
  await admin.connect();
  await admin.query(`
    drop table if exists audit_orders, audit_secrets;
    create table audit_orders (id int primary key, customer text, email text, total int);
    create table audit_secrets (id int primary key, v text);
    insert into audit_orders select g, 'c' || g, 'c' || g || '@example.com', g from generate_series(1, 10) g;
    grant all on audit_orders, audit_secrets to ${info.scramUser};
  `);
  const trigger = (id: string, actions: string[], enforce: boolean, group?: string) => ({
    id,
    description: `${id} in the audit test`,
    ...(group !== undefined ? { subjects: [{ group }] } : {}),
    actions,
    tables: [{ schema: 'public', table: 'audit_orders' }],
    enforce,
  });
  policy = await createTestPolicy({
    grants: [
      {
        id: 'agent-orders',
        subject: { sub: 'svc-agent' },
        objects: [{ table: 'audit_orders', actions: ['select', 'insert', 'update', 'delete'] }],
      },
      {
        id: 'ops-orders',
        subject: { sub: 'svc-ops' },
        objects: [{ table: 'audit_orders', actions: ['select', 'delete'] }],
      },
    ],
    data: {
      'masking.json': { masking: { 'public.audit_orders.email': 'redact' } },
      'approval_triggers.json': {
        approval_triggers: [
          trigger('approval.ops_delete', ['delete'], true, 'ops'),
          trigger('approval.shadow_update', ['update'], false),
        ],
      },
    },
    approvals: [
      {
        id: 'apr-delete-7',
        identity: { sub: 'svc-ops' },
        database: 'app',
        sql: APPROVED_DELETE,
        sha256: createHash('sha256').update(APPROVED_DELETE).digest('hex'),
        not_before: isoIn(-3600),
        expires_at: isoIn(3600),
      },
    ],
  });
  sink = createChdbSink({ path: path.join(root, 'chdb'), database: 'pgward', retentionDays: 365 });
  await sink.migrate();
  writer = createAuditWriter({
    sink,
    spoolDir: path.join(root, 'spool'),
    batchSize: 100,
    flushMs: 20,
    queueMax: 10_000,
    spoolMaxBytes: 1 << 30,
    failClosed: false,
    log: silentLogger,
  });
  observer = createAuditObserver({ writer, statementText: 'normalized', log: silentLogger });
  gw = await startGateway(info, { config: { policy: { bundle_dir: policy.bundleDir } }, observer });
}, 120_000);

afterAll(async () => {
  await gw?.[Symbol.asyncDispose]();
  await writer?.close();
  await sink?.close();
  await policy?.[Symbol.asyncDispose]();
  await admin?.end();
  if (root) await rm(root, { recursive: true, force: true });
});

const run = (c: pg.Client, sql: string | pg.QueryConfig) =>
  c.query(sql as string).then(
    () => 'ok',
    (e: { code?: string }) => e.code,
  );

describe('audit records through the gateway', () => {
  it('writes exactly one record per statement, with every outcome and its facts', async () => {
    const agent = new pg.Client({ connectionString: gw.url('agent') });
    await agent.connect();
    expect(await run(agent, 'select id, customer from audit_orders where id <= 3')).toBe('ok');
    expect(await run(agent, 'select id, email from audit_orders where id = 1')).toBe('ok');
    expect(await run(agent, 'select * from audit_secrets')).toBe('42501');
    expect(
      await run(agent, 'update audit_orders set total = 0 where id = 2; select 1; select 2'),
    ).toBe('ok');
    expect(await run(agent, "insert into audit_orders values (1, 'dup', 'd@x', 1)")).toBe('23505');
    expect(await run(agent, 'delete from audit_orders; select 1')).toBe('42501');
    expect(await run(agent, `select id from audit_orders where customer = '${SECRET}'`)).toBe('ok');
    expect(
      await run(agent, { text: 'select id from audit_orders where id = $1', values: [2] }),
    ).toBe('ok');
    await agent.end();
    const ops = new pg.Client({ connectionString: gw.url('ops') });
    await ops.connect();
    expect(await run(ops, 'delete from audit_orders where id = 5')).toBe('42501');
    expect(await run(ops, APPROVED_DELETE)).toBe('ok');
    await ops.end();
    await expect.poll(() => observer.openSessions + gw.gateway.sessionCount).toBe(0);
    await writer.flush();

    const all = await listStatements(sink, {}, { limit: 100 });
    expect(all.items).toHaveLength(13);
    expect(all.next).toBeNull();
    const sessions = await listSessions(sink, { state: 'closed' });
    const idOf = (sub: string) => sessions.items.find((s) => s.identity_sub === sub)!.session_id;
    const timeline = async (sub: string) => (await sessionTimeline(sink, idOf(sub))).statements;
    const brief = (r: StatementRecord) => [r.seq, r.command, r.outcome, r.rows, r.sqlstate];

    const agentRecords = await timeline('svc-agent');
    expect(agentRecords.map(brief)).toEqual([
      [1, 'SELECT', 'allowed', 3, null],
      [2, 'SELECT', 'masked', 1, null],
      [3, 'SELECT', 'blocked', null, '42501'],
      [4, 'UPDATE', 'allowed', 1, null],
      [5, 'SELECT', 'allowed', 1, null],
      [6, 'SELECT', 'allowed', 1, null],
      [7, 'INSERT', 'error', null, '23505'],
      [8, 'DELETE', 'blocked', null, '42501'],
      [9, 'SELECT', 'blocked', null, '42501'],
      [10, 'SELECT', 'allowed', 0, null],
      [11, 'SELECT', 'allowed', 1, null],
    ]);
    const [first, masked, blocked, update] = agentRecords;
    expect(first).toMatchObject({
      identity_sub: 'svc-agent',
      identity_groups: ['analytics'],
      identity_via: 'password',
      database: 'app',
      protocol: 'simple',
      tables_read: ['public.audit_orders'],
      grant_ids: ['agent-orders'],
      bundle_revision: expect.any(String),
      statement: 'select id, customer from audit_orders where id <= $1',
    });
    expect(first?.facts).toMatchObject({
      command: 'SELECT',
      reads: [{ schema: 'public', table: 'audit_orders', columns: expect.arrayContaining(['id']) }],
    });
    expect(masked?.masked_columns).toEqual(['public.audit_orders.email']);
    expect(blocked?.rule_ids.length).toBeGreaterThan(0);
    expect(update).toMatchObject({
      tables_written: ['public.audit_orders'],
      would_block: ['approval.shadow_update'],
      statement_count: 3,
    });
    expect(agentRecords[10]?.protocol).toBe('extended');
    expect(agentRecords.slice(7, 9).every((r) => r.reason !== null && !r.executed)).toBe(true);

    expect((await timeline('svc-ops')).map((r) => [r.outcome, r.approval_id])).toEqual([
      ['approval_required', null],
      ['allowed', 'apr-delete-7'],
    ]);
    for (const s of sessions.items) {
      expect(s.bytes_in).toBeGreaterThan(0);
      expect((await verifySession(sink, s.session_id)).problems).toEqual([]);
    }
    expect(sessions.items.map((s) => s.statement_count).sort()).toEqual([11, 2]);

    const raw = await sink.select<Record<string, unknown>>(
      'SELECT * FROM {db:Identifier}.statements',
    );
    expect(JSON.stringify(raw)).not.toContain(SECRET);
    const { items: found } = await listStatements(sink, { text: 'customer = $1' });
    expect(found).toHaveLength(1);
    const stats = await statementStats(sink, {
      from: isoIn(-3600),
      to: isoIn(3600),
      bucketSeconds: 7200,
      by: 'outcome',
    });
    const byOutcome = Object.fromEntries(stats.map((r) => [r.key, r.count]));
    expect(byOutcome).toEqual({
      allowed: 7,
      masked: 1,
      blocked: 3,
      error: 1,
      approval_required: 1,
    });
  });
});

describe('a writer killed with SIGKILL while its store fails', () => {
  it('replays its spool on restart: nothing lost, nothing duplicated', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pgward-kill-'));
    const args = [path.join(dir, 'chdb'), path.join(dir, 'spool')];
    const child = childScript('write', args);
    let durable = 0;
    try {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      for await (const line of createInterface({ input: child.stdout! })) {
        const m = /^durable (\d+)$/.exec(line);
        if (m) durable = Number(m[1]);
        if (durable >= 1500) break;
      }
      expect(child.kill('SIGKILL')).toBe(true);
      await exited;
      expect(child.signalCode).toBe('SIGKILL');
      const restart = childScript('replay', args);
      let report = '';
      for await (const line of createInterface({ input: restart.stdout! })) report += line;
      const result = JSON.parse(report) as Record<string, unknown>;
      expect(result).toMatchObject({ left: 0, problems: [] });
      expect(result.spooled).toBeGreaterThan(0);
      expect(result.n).toBe(result.seqs);
      expect(result.n).toBe(result.top);
      expect(result.top).toBeGreaterThanOrEqual(durable);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Runs audit/testing/spool-child.ts (TypeScript through tsx) with stdout piped. */
function childScript(mode: 'write' | 'replay', args: string[]): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', 'audit/testing/spool-child.ts', mode, ...args],
    { cwd: path.resolve(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
}
