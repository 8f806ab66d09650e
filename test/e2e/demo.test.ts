// `pgward demo` as a newcomer runs it: the built CLI as a child process (every port picked freely),
// its banner parsed, the commands it prints run with psql — allowed, masked, DROP TABLE refused, the
// DELETE refused with an approval request — the request approved with the CLI and the DELETE run, the
// statements found in the audit API under the service identities, a clean Ctrl-C, and a second start.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, childBaseEnv, REPO_ROOT } from '../harness/cli-gateway.js';

const PSQL = '/usr/bin/psql';
let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pgward-demo-e2e-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Banner {
  readonly urls: ReadonlyMap<string, string>;
  readonly commands: readonly { variable: string; sql: string; note: string }[];
  readonly apiUrl: string;
  readonly auditorToken: string;
  readonly policyClone: string;
}

function parseBanner(text: string): Banner {
  const urls = new Map(
    [...text.matchAll(/^ {2}export (\w+)='([^']+)'$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  const commands = [...text.matchAll(/^ {2}psql "\$(\w+)" -c "(.+)" +# (.+)$/gm)].map((m) => ({
    variable: m[1]!,
    sql: m[2]!,
    note: m[3]!,
  }));
  const audit = /audit view +(http:\/\/\S+?)\/#token=(\S+)/.exec(text);
  const repo = /policy repo +(\S+)/.exec(text);
  if (audit === null || repo === null) throw new Error(`unexpected banner:\n${text}`);
  return {
    urls,
    commands,
    apiUrl: audit[1]!,
    auditorToken: audit[2]!,
    policyClone: path.resolve(REPO_ROOT, repo[1]!),
  };
}

interface DemoChild extends AsyncDisposable {
  readonly banner: Banner;
  /** Resolves with stdout once it matches (rejects if the demo exits first). */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Ctrl-C: resolves with the exit code and stderr. */
  interrupt(): Promise<{ code: number | null; stderr: string }>;
}

async function startDemo(stateDir: string): Promise<DemoChild> {
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI_MAIN, 'demo', '--ports', '0', '--state-dir', stateDir],
    { cwd: REPO_ROOT, env: childBaseEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (b: Buffer) => {
    stdout += b.toString('utf8');
    for (const l of [...listeners]) l();
  });
  child.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString('utf8');
  });
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(stdout);
        if (m === null) return;
        listeners.delete(check);
        resolve(m);
      };
      listeners.add(check);
      check();
      void exited.then((code) => {
        listeners.delete(check);
        reject(new Error(`the demo exited (${code}) before ${pattern}:\n${stdout}\n${stderr}`));
      });
    });
  const interrupt = async () => {
    if (child.exitCode === null) child.kill('SIGINT');
    return { code: await exited, stderr };
  };
  await waitFor(/pgward demo is ready[\s\S]*its connection string names\.\n/);
  return {
    banner: parseBanner(stdout),
    waitFor,
    interrupt,
    [Symbol.asyncDispose]: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runFile(file: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: { ...childBaseEnv(), PGCONNECT_TIMEOUT: '10' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const psql = (url: string, sql: string) =>
  runFile(PSQL, [url, '-X', '--csv', '-v', 'VERBOSITY=verbose', '-c', sql]);

function command(banner: Banner, variable: string, note: RegExp) {
  const c = banner.commands.find((x) => x.variable === variable && note.test(x.note));
  if (c === undefined) throw new Error(`no ${note} command for ${variable}`);
  return { url: banner.urls.get(variable)!, sql: c.sql };
}

async function auditStatements(banner: Banner, sub: string, expected: number) {
  // The audit writer flushes in batches: poll a bounded number of times until the records are in.
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${banner.apiUrl}/v1/statements?identity=${sub}&limit=100`, {
      headers: { authorization: `Bearer ${banner.auditorToken}` },
    });
    expect(res.status).toBe(200);
    const items = ((await res.json()) as { items: Record<string, unknown>[] }).items;
    if (items.length >= expected || attempt >= 50) return items;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('pgward demo', () => {
  it('runs the whole story, stops on Ctrl-C and starts again', async () => {
    const stateDir = path.join(root, 'state');
    const demo = await startDemo(stateDir);
    const { banner } = demo;
    expect([...banner.urls.keys()]).toEqual(['ANALYTICS_URL', 'ANALYTICS_ARCHIVE_URL', 'OPS_URL']);
    expect(banner.commands).toHaveLength(8);

    const allowed = command(banner, 'ANALYTICS_URL', /^allowed/);
    const ok = await psql(allowed.url, allowed.sql);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim().split('\n')).toHaveLength(6); // header + 5 rows
    // The second registered database, selected by the database name, with a credential minted for it.
    const archive = await psql(
      banner.urls.get('ANALYTICS_ARCHIVE_URL')!,
      'SELECT min(ordered_at)::date AS first, count(*) AS n FROM orders',
    );
    expect(archive.code, archive.stderr).toBe(0);
    expect(archive.stdout).toMatch(/^first,n\n2025-\d\d-\d\d,600\n$/);
    // SECURITY: the shop credential does not open the archive.
    const crossed = await psql(allowed.url.replace('/shop?', '/shop_archive?'), 'SELECT 1');
    expect(crossed.stderr).toMatch(/the pgward credential was not issued for this database/);

    const masked = command(banner, 'ANALYTICS_URL', /^masked/);
    const rows = await psql(masked.url, masked.sql);
    expect(rows.code, rows.stderr).toBe(0);
    const [header, ...values] = rows.stdout.trim().split('\n');
    expect(header).toBe('id,full_name,email,phone,ssn,card_number');
    expect(values).toHaveLength(5);
    for (const line of values) {
      const [, name, email, phone, ssn, card] = line.split(',');
      expect(name).toMatch(/^\S+ \S+$/);
      expect(email).toMatch(/^\*\*\*@[a-z.]*example\.(com|org|net)$/);
      expect(phone).toMatch(/^\*+\d{4}$/);
      expect(ssn).toBe('[redacted]');
      expect(card).toMatch(/^\*+\d{4}$/);
    }

    const drop = command(banner, 'ANALYTICS_URL', /^blocked: DDL/);
    const dropped = await psql(drop.url, drop.sql);
    expect(dropped.code).not.toBe(0);
    expect(dropped.stderr).toMatch(/ERROR: {2}42501: pgward: .*\(rule guardrail\.ddl\)/);

    const del = command(banner, 'OPS_URL', /^needs approval/);
    const refused = await psql(del.url, del.sql);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/ERROR: {2}42501: .*\(rule approval\.ops_delete\)/);
    const id = /HINT: {2}Approval request (apr-[0-9a-f]{16})/.exec(refused.stderr)?.[1];
    expect(id, refused.stderr).toBeDefined();

    await demo.waitFor(
      new RegExp(`\\[policy\\] approval request ${id} filed for ops-agent in shop`),
    );
    const approved = await runFile(process.execPath, [
      CLI_MAIN,
      'approvals',
      'approve',
      id!,
      '--repo',
      banner.policyClone,
      '--as',
      'reviewer@example.com',
    ]);
    expect(approved.code, approved.stderr).toBe(0);
    await demo.waitFor(
      new RegExp(`built, published and served; approved, run it again now: ${id}`),
    );
    const deleted = await psql(del.url, del.sql);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toContain('DELETE 1');

    const analytics = await auditStatements(banner, 'mcp-analytics', 3);
    const byCommand = (items: Record<string, unknown>[], c: string) =>
      items.filter((s) => s.command === c);
    expect(byCommand(analytics, 'SELECT').map((s) => s.outcome)).toEqual(
      expect.arrayContaining(['allowed', 'masked']),
    );
    expect(byCommand(analytics, 'DROP TABLE')[0]).toMatchObject({
      outcome: 'blocked',
      sqlstate: '42501',
      identity_via: 'credential',
      database: 'shop',
    });
    const ops = await auditStatements(banner, 'ops-agent', 2);
    expect(byCommand(ops, 'DELETE')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ outcome: 'approval_required', executed: false }),
        expect.objectContaining({ approval_id: id, executed: true }),
      ]),
    );

    const stopped = await demo.interrupt();
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stderr).toContain('pgward demo: stopped');

    await using again = await startDemo(stateDir);
    const second = command(again.banner, 'ANALYTICS_URL', /^allowed/);
    const rerun = await psql(second.url, second.sql);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect((await again.interrupt()).code).toBe(0);
  }, 300_000);
});
