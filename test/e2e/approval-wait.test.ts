// Wait mode (approvals.wait_ms): instead of refusing at once the gateway holds a statement awaiting
// approval, tells the client (NoticeResponse) which request it waits for, and runs it as soon as a
// bundle carrying its approval is served — here the merge, CI build and pull happen while the client
// waits. A CancelRequest ends the wait with 57014; at the deadline the statement is refused.

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { approvalsCommand } from '../../cli/approval-commands.js';
import type { CommandIo } from '../../cli/policy-repo-commands.js';
import { approvalRequestId, sha256Hex } from '../../policy/repo/approval-request.js';
import { sendCancelRequest } from '../harness/drivers/raw-client.js';
import {
  type ApprovalGateway,
  type ApprovalWorld,
  createApprovalWorld,
  requestIdOf,
  run,
  startApprovalGateway,
} from './approval-fixture.js';

const info = inject('pg');
const DB = 'e2e_approval_wait';
const quiet: CommandIo = { stdout: () => {}, stderr: () => {}, now: () => new Date() };

let world: ApprovalWorld;
beforeAll(async () => {
  world = await createApprovalWorld(info, DB);
}, 120_000);
afterAll(async () => {
  await world?.[Symbol.asyncDispose]();
});

/** What node-postgres hands a 'notice' listener (the fields used here). */
interface Notice {
  readonly message?: string | undefined;
  readonly hint?: string | undefined;
}

/** A node-postgres client whose notices can be awaited one by one. */
async function waitingClient(gw: ApprovalGateway) {
  const client = new pg.Client({ connectionString: gw.url('ops') });
  const notices: Notice[] = [];
  let wake: (() => void) | null = null;
  client.on('notice', (n) => {
    notices.push(n as Notice);
    wake?.();
  });
  await client.connect();
  return {
    client,
    /** The next notice after those already taken. */
    async notice(): Promise<Notice> {
      while (notices.length === 0) await new Promise<void>((r) => (wake = r));
      return notices.shift()!;
    },
    [Symbol.asyncDispose]: () => client.end(),
  };
}

const key = (client: pg.Client) => client as unknown as { processID: number; secretKey: number };

describe('wait mode', () => {
  it('holds the statement until the approved bundle is served, then runs it; a cancel ends a wait', async () => {
    await using gw = await startApprovalGateway(world, { wait_ms: 120_000 });
    await using c = await waitingClient(gw);
    const sql = 'DELETE FROM orders WHERE id = 2';
    const id = approvalRequestId('svc-ops', DB, sha256Hex(sql));

    const held = c.client.query(sql).then(
      (r) => r.rowCount,
      (err: Error) => err,
    );
    const notice = await c.notice();
    expect(notice.message).toBe(
      `pgward: holding this statement up to 120s for approval request ${id}`,
    );
    expect(notice.hint).toContain(`Approve by merging approval/${id}`);

    // While the client waits: filed, approved by a reviewer, built by CI, pulled by the gateway.
    await gw.event((e) => e.id === id && e.type === 'filed');
    expect(await world.orderIds()).toContain(2);
    expect(
      await approvalsCommand(
        ['approve', id, '--repo', world.ws.remote, '--as', 'reviewer'],
        {},
        quiet,
      ),
    ).toBe(0);
    await world.publish();
    expect(await gw.pull()).toBe('swapped');
    expect(await held).toBe(1);
    expect(await world.orderIds()).not.toContain(2);
    expect(gw.records.filter((r) => r.sha256 === sha256Hex(sql))).toEqual([
      expect.objectContaining({ outcome: 'allowed', approval_id: id, rows: 1 }),
    ]);
    const count = async () =>
      (await c.client.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')).rows[0]!.n;
    expect(await count()).toBe(9);

    // A second statement waits; the client cancels: 57014, nothing ran, the session goes on.
    const other = 'DELETE FROM orders WHERE id = 4';
    const waiting = c.client.query(other).then(
      () => null,
      (err: Error) => err,
    );
    const second = await c.notice();
    expect(second.message).toContain(approvalRequestId('svc-ops', DB, sha256Hex(other)));
    const { processID, secretKey } = key(c.client);
    await sendCancelRequest('127.0.0.1', gw.port, processID, secretKey);
    expect(await waiting).toMatchObject({
      code: '57014',
      message: expect.stringMatching(
        /canceling statement due to user request .*waiting for approval/,
      ),
    });
    expect(await world.orderIds()).toContain(4);
    expect(await count()).toBe(9);
    expect(gw.records.filter((r) => r.sha256 === sha256Hex(other))).toEqual([
      expect.objectContaining({ outcome: 'approval_required', sqlstate: '57014', executed: false }),
    ]);
  }, 300_000);

  it('refuses at the end of the wait, naming the request', async () => {
    await using gw = await startApprovalGateway(world, { wait_ms: 200 });
    const sql = 'DELETE FROM orders WHERE id = 5';
    const result = await run(gw, 'ops', sql);
    expect(result).toMatchObject({
      code: '42501',
      message: expect.stringMatching(/approval\.ops_delete/),
    });
    expect(requestIdOf(result)).toBe(approvalRequestId('svc-ops', DB, sha256Hex(sql)));
    expect(await world.orderIds()).toContain(5);
  }, 120_000);
});
