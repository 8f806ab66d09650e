// `pgward replay` and `pgward policy impact` on a trail recorded from real traffic through a gateway:
// the timeline, re-running the read-only statements against the real cluster (equal, then different
// counts), the read-only runner's guards, and exactly the statements a candidate bundle would change.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listSessions } from '../../audit/queries.js';
import { policyImpactCommand, replayCommand } from '../../cli/audit-commands.js';
import type { ImpactReport } from '../../cli/audit-impact.js';
import { openReadOnlyRunner, targetFromUrl } from '../../cli/audit-pg.js';
import { TEMPLATE_DIR } from '../../policy/testing/template-bundle.js';
import { type AuditStack, startAuditStack } from '../harness/audit-stack.js';
import { createTestPolicy, type GrantSpec, type TestPolicy } from '../harness/policy.js';

const info = inject('pg');
const ORDERS = { table: 'cli_orders', actions: ['select', 'update'] };
const AGENT: GrantSpec = { id: 'agent-orders', subject: { sub: 'svc-agent' }, objects: [ORDERS] };
const OPS: GrantSpec = {
  id: 'ops-orders',
  subject: { sub: 'svc-ops' },
  objects: [{ table: 'cli_orders', actions: ['select'] }],
};
const targetUrl = `postgresql://${info.scramUser}:${encodeURIComponent(info.scramPassword)}@127.0.0.1:${info.port}/app?sslmode=require`;
let stack: AuditStack;
let candidate: TestPolicy;
let admin: pg.Client;
let agentSession: string;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

beforeAll(async () => {
  admin = new pg.Client({ host: info.host, port: info.port, user: 'postgres', database: 'app' });
  await admin.connect();
  await admin.query(`
    drop table if exists cli_orders, cli_secrets;
    create table cli_orders (id int primary key, customer text, total int);
    create table cli_secrets (id int primary key, v text);
    insert into cli_orders select g, 'c' || g, g from generate_series(1, 10) g;
    grant all on cli_orders, cli_secrets to ${info.scramUser};
    analyze cli_orders;
  `);
  const guardrails = JSON.parse(
    await readFile(path.join(TEMPLATE_DIR, 'data', 'guardrails.json'), 'utf8'),
  ) as { guardrails: Record<string, unknown> };
  const { 'guardrail.unbounded_update': _dropped, ...withoutOne } = guardrails.guardrails;
  // Serving: both grants and no unbounded-UPDATE guardrail. Candidate: ops grant gone, guardrail back.
  stack = await startAuditStack(info, {
    grants: [AGENT, OPS],
    data: { 'guardrails.json': { guardrails: withoutOne } },
  });
  candidate = await createTestPolicy({ grants: [AGENT] });
  const agent = new pg.Client({ connectionString: stack.gw.url('agent') });
  await agent.connect();
  await agent.query('select * from cli_orders');
  await agent.query('select id from cli_orders where id <= 3');
  await agent.query('select count(*) from cli_orders');
  await agent.query('update cli_orders set total = total');
  await agent.query('update cli_orders set total = total where id = 1');
  await expect(agent.query('select * from cli_secrets')).rejects.toMatchObject({ code: '42501' });
  await agent.end();
  const ops = new pg.Client({ connectionString: stack.gw.url('ops') });
  await ops.connect();
  await ops.query('select id, customer from cli_orders');
  await ops.query('select id, customer from cli_orders');
  await ops.query('select * from cli_orders');
  await ops.end();
  await stack.settle();
  const sessions = await listSessions(stack.sink, { sub: 'svc-agent' });
  agentSession = sessions.items[0]!.session_id;
  await stack.closeStore();
}, 180_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
  await candidate?.[Symbol.asyncDispose]();
  await admin?.end();
});

describe('pgward replay', () => {
  it("prints the session's timeline in order with outcomes, rows and rules", async () => {
    const c = capture();
    expect(await replayCommand([agentSession, '--chdb-path', stack.chdbPath], {}, c.io)).toBe(0);
    const text = c.out.join('');
    expect(text).toContain(`session ${agentSession}`);
    expect(text).toContain('identity svc-agent [analytics] via password');
    const rows = text.split('\n').filter((l) => /^\s+\d+\s+\+/.test(l));
    expect(rows.map((l) => l.trim().split(/\s+/).slice(0, 5))).toEqual([
      ['1', expect.any(String), 'allowed', 'SELECT', '10'],
      ['2', expect.any(String), 'allowed', 'SELECT', '3'],
      ['3', expect.any(String), 'allowed', 'SELECT', '1'],
      ['4', expect.any(String), 'allowed', 'UPDATE', '10'],
      ['5', expect.any(String), 'allowed', 'UPDATE', '1'],
      ['6', expect.any(String), 'blocked', 'SELECT', '-'],
    ]);
    expect(rows[1]).toContain('select id from cli_orders where id <= $1');
    expect(rows[5]).toMatch(/\[access\.[a-z_.]+/);
  });

  it('re-runs the read-only statements against the cluster: equal counts, then a difference', async () => {
    const args = [agentSession, '--chdb-path', stack.chdbPath, '--execute', '--to', targetUrl];
    const c = capture();
    expect(await replayCommand(args, {}, c.io)).toBe(0);
    const text = c.out.join('');
    expect(text).toContain('seq 1: rows 10 → 10: equal');
    expect(text).toContain('seq 3: rows 1 → 1: equal');
    expect(text).toMatch(/seq 2: skipped: its text has placeholders \(normalized/);
    expect(text).toContain('seq 4: skipped: UPDATE is not a read-only SELECT');
    expect(text).toContain('seq 6: skipped: outcome blocked');
    expect(text).toContain('2 re-run: 2 equal, 0 different, 0 failed; 4 skipped');
    await admin.query("insert into cli_orders values (11, 'new', 11)");
    try {
      const d = capture();
      expect(await replayCommand(args, {}, d.io)).toBe(1);
      expect(d.out.join('')).toContain('seq 1: rows 10 → 11: DIFFERENT');
    } finally {
      await admin.query('delete from cli_orders where id = 11');
    }
  });

  it('runs one statement per round trip, read only, and rolls back', async () => {
    const runner = await openReadOnlyRunner(targetFromUrl(targetUrl, {}), { timeoutMs: 10_000 });
    try {
      expect(await runner.count('select * from cli_orders')).toEqual({ ok: true, rows: 10 });
      expect(await runner.count("insert into cli_orders values (12, 'x', 1)")).toMatchObject({
        ok: false,
        error: expect.stringMatching(/^25006: /),
      });
      expect(await runner.count('select 1; delete from cli_orders')).toMatchObject({
        ok: false,
        error: expect.stringMatching(/^42601: cannot insert multiple commands/),
      });
      expect(await runner.count('select count(*) from cli_orders')).toEqual({ ok: true, rows: 1 });
    } finally {
      runner.close();
    }
    expect((await admin.query('select count(*)::int as n from cli_orders')).rows).toEqual([
      { n: 10 },
    ]);
  });
});

describe('pgward policy impact', () => {
  it('reports exactly the statements whose outcome the candidate bundle changes', async () => {
    const c = capture();
    const args = ['impact', '--bundle', candidate.bundleDir, '--since', '1h', '--json'];
    expect(await policyImpactCommand([...args, '--chdb-path', stack.chdbPath], {}, c.io)).toBe(0);
    const report = JSON.parse(c.out.join('')) as ImpactReport;
    expect(report).toMatchObject({ judged: 9, unjudged: 0, truncated: false });
    const changes = report.changes.map((x) => [x.identity, x.statement, x.old, x.new, x.count]);
    expect(changes.sort()).toEqual([
      ['svc-agent', 'update cli_orders set total = total', 'allowed', 'blocked', 1],
      ['svc-ops', 'select * from cli_orders', 'allowed', 'blocked', 1],
      ['svc-ops', 'select id, customer from cli_orders', 'allowed', 'blocked', 2],
    ]);
    const agentUpdate = report.changes.find((x) => x.identity === 'svc-agent');
    expect(agentUpdate?.rules).toEqual(['guardrail.unbounded_update']);
    expect(report.changes.every((x) => /^[0-9a-f]+$/.test(x.fingerprint))).toBe(true);
  });

  it('prints a table and can fail a CI step on any change; the serving bundle changes nothing', async () => {
    const c = capture();
    const args = [
      '--bundle',
      candidate.bundleDir,
      '--chdb-path',
      stack.chdbPath,
      '--fail-on-change',
    ];
    expect(await policyImpactCommand(args, {}, c.io)).toBe(1);
    expect(c.out.join('')).toMatch(/4 statement\(s\) would change outcome/);
    expect(c.out.join('')).toMatch(/svc-ops\s+allowed -> blocked\s+2\s+select id, customer/);
    const same = capture();
    const serving = ['--bundle', stack.policy.bundleDir, '--chdb-path', stack.chdbPath];
    expect(await policyImpactCommand([...serving, '--fail-on-change'], {}, same.io)).toBe(0);
    expect(same.out.join('')).toContain('no outcome would change');
  });
});
