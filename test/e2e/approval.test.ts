// Human approval end to end, through node-postgres, real git, the pinned OPA and the real PostgreSQL:
// a DELETE by group ops is refused with an approval request id; the gateway files the request as a
// branch with approvals/<id>.json (and a pull request); repeating it files nothing new; CI's check
// refuses the requester as approver; a reviewer approves (`pgward approvals approve`); CI rebuilds;
// the gateway pulls; the exact statement runs once for that identity, inside its window only.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { describe, expect, inject, it } from 'vitest';
import { approvalsCommand, checkApprovalCommand } from '../../cli/approval-commands.js';
import type { CommandIo } from '../../cli/policy-repo-commands.js';
import type { Approval } from '../../policy/contracts.js';
import { approvalRequestId, sha256Hex } from '../../policy/repo/approval-request.js';
import { policyValidators } from '../../policy/schemas.js';
import { tempDir } from '../../policy/testing/template-bundle.js';
import { startFakeGitHub } from '../harness/git.js';
import { createApprovalWorld, requestIdOf, run, startApprovalGateway } from './approval-fixture.js';

const info = inject('pg');
const SQL = 'DELETE FROM orders WHERE id = 3';
const DB = 'e2e_approval';

function io() {
  const out = { stdout: '', stderr: '' };
  const value: CommandIo = {
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
    now: () => new Date(),
  };
  return { io: value, out };
}

const approvalRefusal = (rule = /rule approval\.ops_delete/) =>
  expect.objectContaining({ code: '42501', message: expect.stringMatching(rule) });

describe('human approval as pull requests, on live connections', () => {
  it('refuse → file once → review → merge → build → pull → the exact statement runs in its window', async () => {
    await using world = await createApprovalWorld(info, DB);
    await using github = await startFakeGitHub();
    await using gw = await startApprovalGateway(
      world,
      {
        github: {
          repo: 'example-org/pgward-policy',
          token: { env: 'TEST_GITHUB_TOKEN' },
          api_url: github.url,
        },
      },
      { TEST_GITHUB_TOKEN: 'e2e-token' },
    );
    const id = approvalRequestId('svc-ops', DB, sha256Hex(SQL));
    const branch = `approval/${id}`;

    // Refused at once, naming the rule, the request and what to do next; nothing was deleted.
    const refused = await run(gw, 'ops', SQL);
    expect(refused).toEqual(approvalRefusal());
    expect(requestIdOf(refused)).toBe(id);
    expect((refused as { hint: string }).hint).toContain(`approve by merging ${branch}`);
    expect(await world.orderIds()).toContain(3);

    // Filed in the background: the branch and the file with the exact SQL, and a pull request.
    await gw.event((e) => e.id === id && e.type === 'filed');
    const filedHead = await world.ws.remoteHead(branch);
    expect(filedHead).not.toBeNull();
    const reviewer = await world.ws.clone('reviewer');
    const file = JSON.parse(
      await reviewer.git.raw(['show', `origin/${branch}:approvals/${id}.json`]),
    ) as Approval;
    expect(policyValidators().approval(file)).toBe(true);
    expect(file).toMatchObject({
      id,
      identity: { sub: 'svc-ops' },
      database: DB,
      sql: SQL,
      sha256: sha256Hex(SQL),
      requester: 'svc-ops',
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(Date.parse(file.expires_at) - Date.parse(file.not_before)).toBe(3_600_000);
    expect(file.reason).toMatch(/approval\.ops_delete/);
    expect(github.requests).toEqual([
      expect.objectContaining({
        path: '/repos/example-org/pgward-policy/pulls',
        headers: expect.objectContaining({ authorization: 'Bearer e2e-token' }),
        body: expect.objectContaining({ head: branch, base: 'main' }),
      }),
    ]);

    // Again: the same request, now with its pull request; no second branch, commit or PR.
    const again = await run(gw, 'ops', SQL);
    expect(requestIdOf(again)).toBe(id);
    expect((again as { hint: string }).hint).toContain(
      'https://github.test/example-org/pgward-policy/pull/1',
    );
    await gw.desk.idle();
    const branches = await simpleGit(world.ws.root).raw([
      'ls-remote',
      '--heads',
      world.ws.remote,
      'refs/heads/approval/*',
    ]);
    expect(branches.trim().split('\n')).toEqual([`${filedHead}\trefs/heads/${branch}`]);
    expect(github.requests).toHaveLength(1);

    // CI's review check: the requester may not approve; another reviewer may.
    await using scratch = await tempDir('pgward-approval-check-');
    const copy = path.join(scratch.path, `${id}.json`);
    await writeFile(copy, JSON.stringify(file));
    const check = (approver: string) =>
      checkApprovalCommand(
        ['--file', copy, '--approver', approver, '--requester-from-file'],
        io().io,
      );
    expect(await check('svc-ops')).toBe(1);
    expect(await check('reviewer')).toBe(0);

    // Listed as pending, by the CLI and the API; the reviewer approves by merging.
    const viaApi = await gw.api.request('/v1/approvals');
    expect(await viaApi.json()).toMatchObject({
      base: 'main',
      pending: [{ id, branch, approval: { sql: SQL, identity: { sub: 'svc-ops' } } }],
      granted: [],
    });
    const listed = io();
    expect(await approvalsCommand(['list', '--repo', world.ws.remote], {}, listed.io)).toBe(0);
    expect(listed.out.stdout).toContain(`pending (1):\n  ${id}  svc-ops  ${DB}`);
    const approved = io();
    expect(
      await approvalsCommand(
        ['approve', id, '--repo', world.ws.remote, '--as', 'reviewer'],
        {},
        approved.io,
      ),
    ).toBe(0);
    expect(await world.ws.remoteHead(branch)).toBeNull();

    // Until the rebuilt bundle is served the statement stays refused.
    expect(await run(gw, 'ops', SQL)).toEqual(approvalRefusal());
    await world.publish();
    expect(await gw.pull()).toBe('swapped');

    // The same identity, the exact statement: runs, deleting exactly that row; audited with the id.
    expect(await run(gw, 'ops', SQL)).toBe(1);
    expect(await world.orderIds()).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 10]);
    expect(
      gw.records.filter((r) => r.sha256 === sha256Hex(SQL) && r.outcome === 'allowed'),
    ).toEqual([
      expect.objectContaining({
        approval_id: id,
        rows: 1,
        identity_sub: 'svc-ops',
        statement: SQL,
      }),
    ]);

    // Another statement, the same one spelled differently, another identity: refused.
    const other = await run(gw, 'ops', 'DELETE FROM orders WHERE id = 4');
    expect(other).toEqual(approvalRefusal());
    expect(requestIdOf(other)).not.toBe(id);
    expect(await run(gw, 'ops', 'delete from orders where id = 3')).toEqual(approvalRefusal());
    const opsB = await run(gw, 'opsB', SQL);
    expect(opsB).toEqual(approvalRefusal());
    expect(requestIdOf(opsB)).toBe(approvalRequestId('svc-ops-b', DB, sha256Hex(SQL)));
    expect(await world.orderIds()).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 10]);

    // The window, to the second (the gateway's clock is injected): the last second runs, then refused.
    gw.clock.ms = Date.parse(file.expires_at) - 1000;
    expect(await run(gw, 'ops', SQL)).toBe(0);
    gw.clock.ms = Date.parse(file.expires_at);
    const late = await run(gw, 'ops', SQL);
    expect(late).toEqual(approvalRefusal());
    expect(requestIdOf(late)).toBe(id);
    const allowed = gw.records.filter(
      (r) => r.sha256 === sha256Hex(SQL) && r.outcome === 'allowed',
    );
    expect(allowed.map((r) => r.approval_id)).toEqual([id, id]);

    const granted = io();
    expect(
      await approvalsCommand(['list', '--repo', world.ws.remote, '--json'], {}, granted.io),
    ).toBe(0);
    expect(JSON.parse(granted.out.stdout).granted).toEqual([
      expect.objectContaining({ id, sql: SQL, state: 'active' }),
    ]);
  }, 300_000);
});
