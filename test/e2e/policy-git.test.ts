// Policy delivered from git, end to end with the built CLI, real git (a bare remote and clones for
// a maintainer, a requester, a reviewer and CI), the pinned OPA and the real PostgreSQL:
// policy init → CI publishes the bundle branch → the gateway pulls it → `pgward request` → review
// merge → CI rebuilds → webhook → the grant works → it expires at its second without a pull →
// a merged deletion revokes it → a corrupt bundle is ignored → the prune workflow removes it.
// CI is simulated by running exactly the `pgward` commands of the scaffolded workflows.

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApi } from '../../api/create-api.js';
import { POLICY_HOOK_PATH, signPolicyHook } from '../../api/routes/policy-hook.js';
import { loadConfig } from '../../cli/config.js';
import { wireGitPolicy } from '../../cli/policy-repo-commands.js';
import { createLogger } from '../../lib/log.js';
import type { Grant } from '../../policy/contracts.js';
import { createGateway } from '../../proxy/gateway.js';
import { gatewayConfigDoc, gatewayEnv, TEST_USERS } from '../harness/gateway.js';
import {
  createGitWorkspace,
  type GitClone,
  type GitWorkspace,
  pgward,
  runWorkflow,
  startFakeGitHub,
} from '../harness/git.js';

const info = inject('pg');
const HOOK_SECRET = 'e2e-policy-hook-secret';
const ORDERS = 'e2e_git_orders';
const ITEMS = 'e2e_git_items';
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ host: info.host, port: info.port, user: 'postgres', database: 'app' });
  await admin.connect();
  await admin.query(`
    drop table if exists ${ORDERS}, ${ITEMS};
    create table ${ORDERS} (id int primary key, total numeric);
    create table ${ITEMS} (id int primary key, name text);
    insert into ${ORDERS} select g, g * 10 from generate_series(1, 7) g;
    insert into ${ITEMS} select g, 'item ' || g from generate_series(1, 3) g;
    grant select on ${ORDERS}, ${ITEMS} to ${info.scramUser};
  `);
});

afterAll(async () => {
  await admin?.query(`drop table if exists ${ORDERS}, ${ITEMS}`);
  await admin?.end();
});

type LogLine = Record<string, unknown> & { msg: string };

/** The gateway of the e2e: policy.git on the bare remote, its webhook route, an injected clock. */
async function startGitGateway(ws: GitWorkspace) {
  const env = gatewayEnv(info, { env: { TEST_HOOK_SECRET: HOOK_SECRET } });
  const doc = gatewayConfigDoc(info, {
    config: {
      policy: {
        git: {
          url: ws.remote,
          workdir: 'gateway-policy',
          poll_ms: 3_600_000, // only the webhook pulls during the test
          webhook_secret: { env: 'TEST_HOOK_SECRET' },
        },
      },
    },
  });
  const loaded = loadConfig(JSON.stringify(doc), env, ws.root);
  if (!loaded.ok) throw new Error(`config invalid: ${JSON.stringify(loaded.problems)}`);
  const lines: LogLine[] = [];
  const log = createLogger({ level: 'info', write: (l) => lines.push(JSON.parse(l) as LogLine) });
  const wiring = wireGitPolicy(loaded.config, {
    secret: loaded.secret,
    configDir: ws.root,
    workerIndex: 0,
    log,
  });
  if (wiring === null) throw new Error('policy.git did not wire');
  const clock = { ms: null as number | null };
  const gateway = createGateway({
    config: loaded.config,
    secret: loaded.secret,
    log,
    configDir: ws.root,
    now: () => clock.ms ?? Date.now(),
    policyLoader: wiring.policyLoader,
  });
  const { port } = await gateway.listen();
  const api = createApi({ log, routes: [wiring.hookRoutes] });
  const hook = async () => {
    const body = JSON.stringify({ ref: 'refs/heads/pgward-bundle' });
    const res = await api.request(POLICY_HOOK_PATH, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': signPolicyHook(HOOK_SECRET, body),
      },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const u = TEST_USERS.agent;
  const url = `postgres://${u.name}:${encodeURIComponent(u.password)}@127.0.0.1:${port}/app`;
  return {
    gateway,
    source: wiring.source,
    lines,
    clock,
    hook,
    url,
    [Symbol.asyncDispose]: async () => {
      await wiring.source.stop();
      await gateway.shutdown(0);
    },
  };
}

/** Runs one statement as svc-agent through the gateway: the row count, or the error. */
async function agentSelect(url: string, table: string): Promise<number | Error> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(`select count(*)::int as n from ${table}`)).rows[0].n as number;
  } catch (err) {
    return err as Error;
  } finally {
    await c.end();
  }
}

const deniedBy = (rule: RegExp) =>
  expect.objectContaining({ code: '42501', message: expect.stringMatching(rule) });

async function onMain(clone: GitClone): Promise<string> {
  await clone.git.raw(['fetch', '-q', 'origin']);
  await clone.git.raw(['checkout', '-q', 'main']);
  await clone.git.raw(['reset', '-q', '--hard', 'origin/main']);
  return clone.head();
}

async function grantOf(clone: GitClone, id: string): Promise<Grant> {
  return JSON.parse(await clone.git.raw(['show', `origin/grant/${id}:grants/${id}.json`])) as Grant;
}

describe('policy delivered from git', () => {
  it('init → publish → request → merge → pull → expire → revoke → corrupt bundle → prune', async () => {
    await using ws = await createGitWorkspace();
    await using github = await startFakeGitHub();
    const env = ws.childEnv();

    // The policy repository, scaffolded by the CLI and pushed by a maintainer.
    const repoDir = path.join(ws.root, 'policy');
    await pgward(['policy', 'init', repoDir], { cwd: ws.root, env });
    const maintainer = await ws.adopt(repoDir, 'maintainer');
    const initial = await maintainer.commitAll('policy: scaffold');
    await maintainer.git.raw(['push', '-q', 'origin', 'main']);

    // The gateway starts before any bundle exists: it serves nothing and denies everything.
    await using gw = await startGitGateway(ws);
    expect(gw.gateway.policySource.revision).toBeNull();
    expect(await agentSelect(gw.url, ORDERS)).toEqual(deniedBy(/rule policy\.no_bundle/));

    // CI on main publishes the bundle branch; the webhook makes the gateway pull it.
    const ci = await ws.clone('ci');
    await runWorkflow(ci.dir, 'main', env);
    const bundleCommit = await ws.remoteHead('pgward-bundle');
    await ci.git.raw(['fetch', '-q', 'origin']);
    const bundleMessage = await ci.git.raw(['log', '-1', '--format=%B', 'origin/pgward-bundle']);
    expect(bundleMessage).toContain(`Source commit: ${initial}`);
    expect(await gw.hook()).toEqual({
      status: 200,
      body: { outcome: 'swapped', commit: bundleCommit, revision: initial },
    });
    expect(gw.gateway.policySource.revision).toBe(initial);
    expect(await agentSelect(gw.url, ORDERS)).toEqual(deniedBy(/rule access\.no_grant/));

    // An engineer requests two grants; the GitHub API (a local stand-in) gets the pull requests.
    const requester = await ws.clone('requester');
    const request = async (table: string, ttl: string) => {
      const run = await pgward(
        [
          'request',
          '--repo',
          requester.dir,
          '--subject',
          'svc-agent',
          '--database',
          'app',
          '--table',
          `public.${table}:select`,
          '--ttl',
          ttl,
          '--reason',
          `e2e access to ${table}`,
          '--requester',
          'alice@example.test',
          '--github-repo',
          'example-org/pgward-policy',
        ],
        {
          cwd: requester.dir,
          env: { ...env, GITHUB_TOKEN: 'e2e-token', GITHUB_API_URL: github.url },
        },
      );
      const id = /requested grant (\S+)/.exec(run.stdout)?.[1];
      expect(run.stdout).toMatch(/opened pull request #\d+/);
      return id!;
    };
    const ordersId = await request(ORDERS, '2h');
    const itemsId = await request(ITEMS, '5s');
    expect(
      github.requests.map((r) => [
        r.method,
        r.path,
        r.headers.authorization,
        (r.body as { head: string }).head,
      ]),
    ).toEqual([
      ['POST', '/repos/example-org/pgward-policy/pulls', 'Bearer e2e-token', `grant/${ordersId}`],
      ['POST', '/repos/example-org/pgward-policy/pulls', 'Bearer e2e-token', `grant/${itemsId}`],
    ]);

    // CI on the pull request runs its checks on the grant branch.
    await ci.git.raw(['fetch', '-q', 'origin']);
    await ci.git.raw(['checkout', '-q', '-B', `grant/${ordersId}`, `origin/grant/${ordersId}`]);
    const checks = await runWorkflow(ci.dir, 'pullRequest', env);
    expect(checks.at(-1)?.run.stdout).toMatch(
      new RegExp(`ok +${ordersId}: select public.${ORDERS} -> allowed`),
    );

    // The reviewer merges both; CI rebuilds; until the webhook, the gateway still serves the old bundle.
    const reviewer = await ws.clone('reviewer');
    const orders = await grantOf(reviewer, ordersId);
    const items = await grantOf(reviewer, itemsId);
    for (const id of [ordersId, itemsId])
      await reviewer.git.raw([
        'merge',
        '-q',
        '--no-ff',
        '-m',
        `Merge grant/${id}`,
        `origin/grant/${id}`,
      ]);
    await reviewer.git.raw(['push', '-q', 'origin', 'main']);
    const merged = await reviewer.head();
    expect(await onMain(ci)).toBe(merged);
    await runWorkflow(ci.dir, 'main', env);
    expect(await agentSelect(gw.url, ORDERS)).toEqual(deniedBy(/rule access\.no_grant/));
    expect(await gw.hook()).toMatchObject({
      status: 200,
      body: { outcome: 'swapped', revision: merged },
    });
    expect(gw.gateway.policySource.revision).toBe(merged);

    // Inside both windows (the gateway's clock is injected) svc-agent's SELECTs run.
    gw.clock.ms = Date.parse(items.not_before) + 1000;
    expect(Date.parse(orders.not_before)).toBeLessThanOrEqual(gw.clock.ms);
    expect(await agentSelect(gw.url, ORDERS)).toBe(7);
    expect(await agentSelect(gw.url, ITEMS)).toBe(3);

    // The short grant expires at its second, with no pull: denied with 42501.
    const pullsBefore = gw.source.pulls;
    gw.clock.ms = Date.parse(items.expires_at) - 1000;
    expect(await agentSelect(gw.url, ITEMS)).toBe(3);
    gw.clock.ms = Date.parse(items.expires_at);
    expect(await agentSelect(gw.url, ITEMS)).toEqual(deniedBy(/rule access\./));
    expect(await agentSelect(gw.url, ORDERS)).toBe(7);
    expect(gw.source.pulls).toBe(pullsBefore);
    expect(gw.gateway.policySource.revision).toBe(merged);

    // Revocation: a merged deletion of the orders grant takes effect at the pull.
    gw.clock.ms = Date.parse(items.not_before) + 1000;
    await onMain(reviewer);
    await reviewer.git.raw(['checkout', '-q', '-b', `revoke/${ordersId}`]);
    await reviewer.git.raw(['rm', '-q', `grants/${ordersId}.json`]);
    await reviewer.commitAll(`revoke ${ordersId}`);
    await reviewer.git.raw(['checkout', '-q', 'main']);
    await reviewer.git.raw([
      'merge',
      '-q',
      '--no-ff',
      '-m',
      'Merge revocation',
      `revoke/${ordersId}`,
    ]);
    await reviewer.git.raw(['push', '-q', 'origin', 'main']);
    const revoked = await reviewer.head();
    await onMain(ci);
    await runWorkflow(ci.dir, 'main', env);
    expect(await agentSelect(gw.url, ORDERS)).toBe(7);
    expect(await gw.hook()).toMatchObject({
      status: 200,
      body: { outcome: 'swapped', revision: revoked },
    });
    expect(await agentSelect(gw.url, ORDERS)).toEqual(deniedBy(/rule access\./));
    expect(await agentSelect(gw.url, ITEMS)).toBe(3);

    // A corrupt bundle pushed to the bundle branch is rejected; the last good one keeps serving.
    await ci.git.raw(['checkout', '-q', '-B', 'pgward-bundle', 'origin/pgward-bundle']);
    await ci.git.raw(['reset', '-q', '--hard', 'origin/pgward-bundle']);
    const wasmFile = path.join(ci.dir, 'policy.wasm');
    const wasm = await readFile(wasmFile);
    wasm.writeUInt8(wasm.readUInt8(100) ^ 0xff, 100);
    await writeFile(wasmFile, wasm);
    const corrupt = await ci.commitAll('a corrupt bundle');
    await ci.git.raw(['push', '-q', 'origin', 'pgward-bundle']);
    expect(await gw.hook()).toMatchObject({
      status: 422,
      body: { code: 'PGW_BUNDLE_HASH_MISMATCH', commit: corrupt, revision: revoked },
    });
    expect(gw.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'policy bundle rejected; the last good bundle keeps serving',
        commit: corrupt,
        code: 'PGW_BUNDLE_HASH_MISMATCH',
        serving: revoked,
      }),
    );
    expect(gw.gateway.policySource.revision).toBe(revoked);
    expect(await agentSelect(gw.url, ITEMS)).toBe(3);
    expect(await agentSelect(gw.url, ORDERS)).toEqual(deniedBy(/rule access\./));

    // The scheduled prune workflow removes the expired grant through a pull request.
    for (let i = 0; i < 100 && Date.now() < Date.parse(items.expires_at); i++)
      await new Promise((r) => setTimeout(r, 100));
    await onMain(ci);
    await runWorkflow(ci.dir, 'prune', {
      ...env,
      GITHUB_TOKEN: 'e2e-token',
      GITHUB_REPOSITORY: 'example-org/pgward-policy',
      GITHUB_API_URL: github.url,
    });
    await ci.git.raw(['fetch', '-q', 'origin']);
    const pruned = await ci.git.raw([
      'diff',
      '--name-status',
      'origin/main',
      'origin/prune/expired',
    ]);
    expect(pruned).toContain(`D\tgrants/${itemsId}.json`);
    expect(pruned).not.toContain('svc-reporting');
    expect(github.requests.at(-1)).toMatchObject({
      path: '/repos/example-org/pgward-policy/pulls',
      body: { head: 'prune/expired', base: 'main' },
    });
  });
});
