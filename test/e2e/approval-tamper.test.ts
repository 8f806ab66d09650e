// Approvals that must never allow anything: an approved text changed afterwards, a digest that is not
// the text's, a file failing the schema (CI refuses to build, the served bundle stays), an approval
// for another identity; and a policy remote that is unreachable when a request is filed (refused,
// retried, logged, filed once the remote is back). Real git, the pinned OPA, the real PostgreSQL.

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { approvalsCommand } from '../../cli/approval-commands.js';
import type { CommandIo } from '../../cli/policy-repo-commands.js';
import {
  approvalRequestId,
  buildApprovalRequest,
  sha256Hex,
} from '../../policy/repo/approval-request.js';
import { startCliGateway } from '../harness/cli-gateway.js';
import type { GitClone } from '../harness/git.js';
import {
  type ApprovalGateway,
  type ApprovalWorld,
  approvalGatewayConfig,
  createApprovalWorld,
  OPS_B,
  requestIdOf,
  run,
  startApprovalGateway,
} from './approval-fixture.js';

const info = inject('pg');
const DB = 'e2e_approval_tamper';
const quiet: CommandIo = { stdout: () => {}, stderr: () => {}, now: () => new Date() };

let world: ApprovalWorld;
let gw: ApprovalGateway;
let maintainer: GitClone;

beforeAll(async () => {
  world = await createApprovalWorld(info, DB);
  gw = await startApprovalGateway(world);
  maintainer = await world.ws.clone('maintainer2');
}, 120_000);

afterAll(async () => {
  await gw?.[Symbol.asyncDispose]();
  await world?.[Symbol.asyncDispose]();
});

const refused = expect.objectContaining({ code: '42501' });
/** What `pgward policy test` prints for an approval whose sql is not what its sha256 names. */
const DIGEST_REFUSED = /"pointer":"\/sha256","message":"is not the sha256 of sql/;

/** Commits `edit` straight onto main (as a merged pull request would) and pushes it. */
async function onMain(message: string, edit: () => Promise<void>): Promise<void> {
  await maintainer.git.raw(['fetch', '-q', 'origin']);
  await maintainer.git.raw(['checkout', '-q', 'main']);
  await maintainer.git.raw(['reset', '-q', '--hard', 'origin/main']);
  await edit();
  await maintainer.commitAll(message);
  await maintainer.git.raw(['push', '-q', 'origin', 'main']);
}

/** A hand-written approval for svc-ops-b to run `sql`, merged onto main and published. */
async function approveOnMain(sql: string, message: string) {
  const approval = buildApprovalRequest({
    sub: OPS_B.name,
    database: DB,
    sql,
    sha256: sha256Hex(sql),
    fingerprint: '',
    reasons: [{ rule: 'approval.ops_delete', message: 'reviewed by hand' }],
    sessionId: 's_manual',
    requestedAt: new Date(),
    windowMs: 3_600_000,
  });
  await onMain(message, () =>
    writeFile(
      path.join(maintainer.dir, 'approvals', `${approval.id}.json`),
      `${JSON.stringify(approval, null, 2)}\n`,
    ),
  );
  await world.publish();
  return approval;
}

async function editApproval(id: string, change: (doc: Record<string, unknown>) => void) {
  const file = path.join(maintainer.dir, 'approvals', `${id}.json`);
  const doc = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  change(doc);
  await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
}

describe('approvals that must never allow', () => {
  it('a changed text, a wrong digest or a schema failure: CI builds nothing, nothing runs', async () => {
    const sql = 'DELETE FROM orders WHERE id = 5';
    const first = await run(gw, 'ops', sql);
    expect(first).toEqual(refused);
    const id = requestIdOf(first)!;
    await gw.event((e) => e.id === id && e.type === 'filed');
    expect(
      await approvalsCommand(
        ['approve', id, '--repo', world.ws.remote, '--as', 'reviewer'],
        {},
        quiet,
      ),
    ).toBe(0);
    const served = await world.ws.remoteHead('pgward-bundle');

    // The approved text is widened after the merge, its digest kept.
    await onMain('widen the approved delete', () =>
      editApproval(id, (doc) => {
        doc.sql = 'DELETE FROM orders WHERE id > 0';
      }),
    );
    await expect(world.publish()).rejects.toThrow(DIGEST_REFUSED);
    // A digest that is another statement's.
    await onMain('point the digest elsewhere', () =>
      editApproval(id, (doc) => {
        doc.sql = sql;
        doc.sha256 = sha256Hex('DELETE FROM orders WHERE id = 6');
      }),
    );
    await expect(world.publish()).rejects.toThrow(DIGEST_REFUSED);
    // A property the schema does not know.
    await onMain('an extra property', () =>
      editApproval(id, (doc) => {
        doc.sha256 = sha256Hex(sql);
        doc.max_uses = 1000;
      }),
    );
    await expect(world.publish()).rejects.toThrow(/has unknown property .{0,2}max_uses/);

    expect(await world.ws.remoteHead('pgward-bundle')).toBe(served);
    expect(await gw.pull()).toBe('unchanged');
    for (const text of [sql, 'DELETE FROM orders WHERE id > 0', 'DELETE FROM orders WHERE id = 6'])
      expect(await run(gw, 'ops', text)).toEqual(refused);
    expect(await world.orderIds()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    // Repaired, the same approval is built and served, and allows exactly its statement.
    await onMain('repair the approval', () =>
      editApproval(id, (doc) => {
        delete doc.max_uses;
      }),
    );
    await world.publish();
    expect(await gw.pull()).toBe('swapped');
    expect(await run(gw, 'ops', 'DELETE FROM orders WHERE id = 6')).toEqual(refused);
    expect(await run(gw, 'ops', sql)).toBe(1);
    expect(await world.orderIds()).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
  }, 300_000);

  it('an approval for another identity lets only that identity run it, max_uses times per gateway, across restarts', async () => {
    const sql = 'DELETE FROM orders WHERE id = 7';
    const approval = await approveOnMain(sql, 'approve a delete for svc-ops-b');
    expect(await gw.pull()).toBe('swapped');
    const ops = await run(gw, 'ops', sql);
    expect(ops).toEqual(refused);
    expect(requestIdOf(ops)).toBe(approvalRequestId('svc-ops', DB, sha256Hex(sql)));
    expect(await world.orderIds()).toContain(7);
    // On a gateway with max_uses 1 it runs once; then that gateway refuses it, naming the limit.
    const limit = { max_uses: 1, uses_path: 'approval-uses-once.jsonl' };
    const usedUp = expect.objectContaining({
      code: '42501',
      message: expect.stringMatching(
        new RegExp(
          `approval ${approval.id} was already used 1 time .*\\(rule approval\\.max_uses\\)`,
        ),
      ),
    });
    const once = await startApprovalGateway(world, limit);
    try {
      expect(await run(once, 'opsB', sql)).toBe(1);
      expect(await world.orderIds()).not.toContain(7);
      expect(await run(once, 'opsB', sql)).toEqual(usedUp);
      expect(once.records.at(-1)).toMatchObject({ outcome: 'blocked', approval_id: approval.id });
    } finally {
      await once[Symbol.asyncDispose]();
    }
    // SECURITY: a restart does not give the approval its runs back.
    await using restarted = await startApprovalGateway(world, limit);
    expect(await restarted.pull()).toBe('unchanged');
    expect(await run(restarted, 'opsB', sql)).toEqual(usedUp);
    // Uses are counted per gateway: the other one still runs it inside the window.
    expect(await run(gw, 'opsB', sql)).toBe(0);
  }, 300_000);

  it('max_uses counts the runs of every worker of a cluster, not of each, and across a restart', async () => {
    const sql = 'DELETE FROM orders WHERE id = 9';
    const approval = await approveOnMain(sql, 'approve a delete for svc-ops-b, once');
    const { doc, env } = approvalGatewayConfig(world, {
      max_uses: 1,
      uses_path: path.join(world.ws.root, 'cluster-approval-uses.jsonl'),
    });
    // The CLI harness merges over a pass-through document: policy is switched back on.
    const policy = { ...(doc.policy as object), disabled: false };
    const config = { ...doc, policy, workers: 2 };
    const usedUp = {
      code: '42501',
      message: expect.stringMatching(
        new RegExp(`approval ${approval.id} was already used 1 time .*approval\\.max_uses`),
      ),
    };
    const cluster = await startCliGateway(info, { config, env });
    expect((await cluster.waitForLog((r) => r.msg === 'listening')).workers).toBe(2);
    // One session on each worker (the worker index is in bits 22..29 of the key the client sees).
    const byWorker = new Map<number, pg.Client>();
    const opened: pg.Client[] = [];
    try {
      for (let i = 0; i < 16 && byWorker.size < 2; i++) {
        const client = new pg.Client({
          host: '127.0.0.1',
          port: cluster.port,
          user: OPS_B.name,
          password: OPS_B.password,
          database: DB,
        });
        await client.connect();
        opened.push(client);
        const worker = ((client as unknown as { processID: number }).processID >>> 22) & 0xff;
        if (!byWorker.has(worker)) byWorker.set(worker, client);
      }
      expect([...byWorker.keys()].sort()).toEqual([0, 1]);
      expect((await byWorker.get(0)!.query(sql)).rowCount).toBe(1);
      // SECURITY: the other worker must not run it again: the one allowed run is spent.
      await expect(byWorker.get(1)!.query(sql)).rejects.toMatchObject(usedUp);
      await expect(byWorker.get(0)!.query(sql)).rejects.toMatchObject({ code: '42501' });
    } finally {
      await Promise.all(opened.map((c) => c.end()));
      await cluster[Symbol.asyncDispose]();
    }
    // SECURITY: the gateway restarted (a new primary and workers) still counts the run.
    await using again = await startCliGateway(info, { config, env });
    const client = new pg.Client({
      host: '127.0.0.1',
      port: again.port,
      user: OPS_B.name,
      password: OPS_B.password,
      database: DB,
    });
    await client.connect();
    try {
      await expect(client.query(sql)).rejects.toMatchObject(usedUp);
    } finally {
      await client.end();
    }
  }, 300_000);

  it('an unreachable policy remote: refused, retried and logged, filed once it is back', async () => {
    const later = path.join(world.ws.root, 'later.git');
    await using down = await startApprovalGateway(world, { repo: later });
    const sql = 'DELETE FROM orders WHERE id = 8';
    const first = await run(down, 'ops', sql);
    expect(first).toEqual(refused);
    const id = requestIdOf(first)!;
    await down.event((e) => e.id === id && e.type === 'failed' && e.attempt === 2);
    expect(down.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'approval request filing failed',
        approval_id: id,
        attempt: 1,
        retry_in_ms: 100,
      }),
    );
    expect(requestIdOf(await run(down, 'ops', sql))).toBe(id);

    await simpleGit(world.ws.root).raw(['clone', '--quiet', '--bare', world.ws.remote, later]);
    await down.event((e) => e.id === id && e.type === 'filed');
    const head = await simpleGit(world.ws.root).raw([
      'ls-remote',
      '--heads',
      later,
      `refs/heads/approval/${id}`,
    ]);
    expect(head).toContain(`refs/heads/approval/${id}`);
    expect(down.events.filter((e) => e.type === 'filed' && e.id === id)).toHaveLength(1);
    expect(await run(down, 'ops', sql)).toEqual(refused);
    expect(await world.orderIds()).toContain(8);
  }, 300_000);
});
