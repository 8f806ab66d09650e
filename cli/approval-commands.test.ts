// The approval commands in-process: check-approval's exit codes and words, list and approve against a
// real bare remote, and the approvals section of the config turned into a desk and an API route.
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/log.js';
import {
  buildApprovalRequest,
  fileApprovalRequest,
  sha256Hex,
} from '../policy/repo/approval-request.js';
import { TEMPLATE_DIR, tempDir } from '../policy/testing/template-bundle.js';
import { createGitWorkspace, type GitWorkspace } from '../test/harness/git.js';
import {
  approvalsCommand,
  approvalsRepo,
  checkApprovalCommand,
  openApprovalUses,
  wireApprovalDesk,
  wireApprovalsApi,
} from './approval-commands.js';
import { loadConfig } from './config.js';
import type { CommandIo } from './policy-repo-commands.js';

const NOW = new Date('2026-11-25T10:00:00Z');
const SQL = 'DELETE FROM orders WHERE id = 3';
const approval = buildApprovalRequest({
  sub: 'svc-ops',
  database: 'app',
  sql: SQL,
  sha256: sha256Hex(SQL),
  fingerprint: '',
  reasons: [{ rule: 'approval.ops_delete', message: 'needs approval' }],
  sessionId: 's_1',
  requestedAt: NOW,
  windowMs: 3_600_000,
});

function io() {
  const out = { stdout: '', stderr: '' };
  const value: CommandIo = {
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
    now: () => NOW,
  };
  return { io: value, out };
}

describe('pgward policy check-approval', () => {
  it('passes another reviewer, fails the requester and a tampered file, exit 2 without arguments', async () => {
    await using dir = await tempDir();
    const file = path.join(dir.path, `${approval.id}.json`);
    await writeFile(file, JSON.stringify(approval));
    const ok = io();
    expect(
      await checkApprovalCommand(
        ['--file', file, '--approver', 'bob', '--requester-from-file'],
        ok.io,
      ),
    ).toBe(0);
    expect(ok.out.stdout).toMatch(/check-approval: ok/);
    const self = io();
    expect(
      await checkApprovalCommand(
        ['--file', file, '--approver', 'svc-ops', '--requester-from-file'],
        self.io,
      ),
    ).toBe(1);
    expect(self.out.stdout).toMatch(/who is its requester[\s\S]*check-approval: FAILED/);
    await writeFile(file, JSON.stringify({ ...approval, sql: 'DELETE FROM orders' }));
    const tampered = io();
    expect(
      await checkApprovalCommand(
        ['--file', file, '--approver', 'bob', '--requester-from-file'],
        tampered.io,
      ),
    ).toBe(1);
    expect(tampered.out.stdout).toMatch(/\/sha256: is not the sha256 of sql/);
    const bare = io();
    expect(await checkApprovalCommand(['--file', file], bare.io)).toBe(2);
    expect(bare.out.stderr).toMatch(/--approver are required/);
  });
});

describe('pgward approvals list and approve', () => {
  const home = process.env.HOME;
  let ws0: GitWorkspace;
  beforeAll(async () => {
    ws0 = await createGitWorkspace();
    process.env.HOME = ws0.home;
  });
  afterAll(async () => {
    process.env.HOME = home;
    await ws0[Symbol.asyncDispose]();
  });

  it('lists the pending request, approves it as the reviewer, lists it as granted', async () => {
    await using ws = await createGitWorkspace();
    const seed = await ws.clone('maintainer');
    await cp(TEMPLATE_DIR, seed.dir, { recursive: true });
    await seed.commitAll('policy');
    await seed.git.raw(['push', '-q', 'origin', 'HEAD:refs/heads/main']);
    await fileApprovalRequest({ repo: ws.remote, approval, now: NOW });

    const before = io();
    expect(await approvalsCommand(['list', '--repo', ws.remote], {}, before.io)).toBe(0);
    expect(before.out.stdout).toContain(`pending (1):\n  ${approval.id}  svc-ops  app`);
    expect(before.out.stdout).toContain('granted on main (0):');

    const refused = io();
    expect(
      await approvalsCommand(
        ['approve', approval.id, '--repo', ws.remote, '--as', 'svc-ops'],
        {},
        refused.io,
      ),
    ).toBe(1);
    expect(refused.out.stderr).toMatch(/who is its requester.*PGW_REPO_REQUEST_INVALID/s);

    const approved = io();
    expect(
      await approvalsCommand(
        ['approve', approval.id, '--repo', ws.remote, '--as', 'bob'],
        {},
        approved.io,
      ),
    ).toBe(0);
    expect(approved.out.stdout).toMatch(
      new RegExp(`approved ${approval.id} as bob: merged approval/${approval.id} into main`),
    );

    const after = io();
    expect(await approvalsCommand(['list', '--repo', ws.remote, '--json'], {}, after.io)).toBe(0);
    const body = JSON.parse(after.out.stdout);
    expect(body).toMatchObject({
      base: 'main',
      pending: [],
      granted: [{ id: approval.id, state: 'active', sql: SQL }],
    });
    expect(await approvalsCommand(['nope'], {}, io().io)).toBe(2);
  });
});

describe('approvals in the config', () => {
  const doc = (approvals?: Record<string, unknown>) =>
    JSON.stringify({
      policy: { bundle_dir: 'bundle' },
      upstreams: [{ name: 'app', host: 'db', database: 'app', user: 'gw' }],
      ...(approvals !== undefined ? { approvals } : {}),
    });

  it('fills defaults, resolves the repository against the config directory, and wires desk and route', () => {
    const none = loadConfig(doc(), {}, '/etc/pgward');
    if (!none.ok) throw new Error('config');
    const deps = { secret: none.secret, configDir: '/etc/pgward', log: silentLogger, env: {} };
    expect(wireApprovalDesk(none.config, deps)).toBeNull();
    expect(wireApprovalsApi(none.config, deps)).toBeNull();

    const loaded = loadConfig(doc({ repo: 'policy.git', wait_ms: 5000 }), {}, '/etc/pgward');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    expect(loaded.config.approvals).toEqual({
      repo: 'policy.git',
      branch_prefix: 'approval/',
      window_minutes: 60,
      wait_ms: 5000,
      timeout_ms: 60000,
      uses_path: '.pgward/approval-uses.jsonl',
    });
    expect(approvalsRepo(loaded.config.approvals!, '/etc/pgward')).toBe('/etc/pgward/policy.git');
    expect(approvalsRepo({ ...loaded.config.approvals!, repo: 'git@host:org/p.git' }, '/x')).toBe(
      'git@host:org/p.git',
    );
    const desk = wireApprovalDesk(loaded.config, { ...deps, secret: loaded.secret });
    expect(desk?.waitMs).toBe(5000);
    desk?.close();
    expect(wireApprovalsApi(loaded.config, deps)).toBeTypeOf('function');

    const bad = loadConfig(
      doc({ repo: 'p.git', branch_prefix: 'no-slash', window_minutes: 0 }),
      {},
      '/',
    );
    expect(bad.ok).toBe(false);
  });

  it('counts approval runs in uses_path, relative to the config directory, only when max_uses is set', async () => {
    await using dir = await tempDir('pgward-uses-config-');
    const unlimited = loadConfig(doc({ repo: 'p.git' }), {}, dir.path);
    if (!unlimited.ok) throw new Error('config');
    expect(
      await openApprovalUses(unlimited.config, { configDir: dir.path, log: silentLogger }),
    ).toBeNull();

    const limited = loadConfig(
      doc({ repo: 'p.git', max_uses: 1, uses_path: 'state/uses.jsonl' }),
      {},
      dir.path,
    );
    if (!limited.ok) throw new Error('config');
    const ledger = await openApprovalUses(limited.config, {
      configDir: dir.path,
      log: silentLogger,
    });
    // An empty path names no file: refused with the rest of the config.
    expect(loadConfig(doc({ repo: 'p.git', max_uses: 1, uses_path: '' }), {}, dir.path).ok).toBe(
      false,
    );
    const run = { id: 'apr-1', notBefore: null, expiresAt: null };
    try {
      expect(await ledger?.spend([run], 1)).toEqual({ ok: true });
    } finally {
      await ledger?.close();
    }
    expect(await readFile(path.join(dir.path, 'state', 'uses.jsonl'), 'utf8')).toContain(
      '"id":"apr-1"',
    );
  });
});
