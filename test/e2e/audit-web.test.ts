// The auditor web view in a real browser (Debian chromium, headless, driven by playwright-core): real
// traffic through a gateway recorded in chDB, the API serving the page with a real IdP's token, then
// the sessions list, one session's timeline and the blocked/masked chart rendered from that data.
// Writes a screenshot to test-results/audit-web.png (git-ignored).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApi } from '../../api/create-api.js';
import { auditRoutes } from '../../api/routes/audit.js';
import { opsRoutes } from '../../api/routes/audit-ops.js';
import { type ServedApi, serveApi } from '../../api/serve-api.js';
import { loadConfig } from '../../cli/config.js';
import { silentLogger } from '../../lib/log.js';
import { createIdentityFromConfig } from '../../proxy/auth/chain.js';
import { type AuditStack, startAuditStack } from '../harness/audit-stack.js';
import { gatewayConfigDoc, gatewayEnv } from '../harness/gateway.js';
import { IDP_AUDIENCE, startIdp, type TestIdp } from '../harness/idp.js';

const info = inject('pg');
const SCREENSHOT = path.resolve(import.meta.dirname, '../../test-results/audit-web.png');
let stack: AuditStack;
let idp: TestIdp;
let api: ServedApi;
let browser: Browser;
let token: string;

beforeAll(async () => {
  const admin = new pg.Client({
    host: info.host,
    port: info.port,
    user: 'postgres',
    database: 'app',
  });
  await admin.connect();
  await admin.query(`
    drop table if exists web_orders, web_secrets;
    create table web_orders (id int primary key, customer text, email text);
    create table web_secrets (id int primary key, v text);
    insert into web_orders select g, 'c' || g, 'c' || g || '@example.com' from generate_series(1, 5) g;
    grant all on web_orders, web_secrets to ${info.scramUser};
  `);
  await admin.end();
  stack = await startAuditStack(info, {
    grants: [
      {
        id: 'agent-orders',
        subject: { sub: 'svc-agent' },
        objects: [{ table: 'web_orders', actions: ['select'] }],
      },
    ],
    data: { 'masking.json': { masking: { 'public.web_orders.email': 'redact' } } },
  });
  const agent = new pg.Client({ connectionString: stack.gw.url('agent') });
  await agent.connect();
  await agent.query('select id, customer from web_orders');
  await agent.query('select id, email from web_orders where id <= 2');
  await agent.query('select id, email from web_orders where id <= 3');
  await agent.query('select * from web_secrets').catch(() => 'blocked');
  await agent.query('delete from web_orders').catch(() => 'blocked');
  await agent.end();
  const ops = new pg.Client({ connectionString: stack.gw.url('ops') });
  await ops.connect();
  await ops.query('select * from web_orders').catch(() => 'blocked');
  await ops.end();
  await stack.settle();

  idp = await startIdp({ groups: { 'svc-agent': ['auditors'] } });
  token = await idp.token('agent');
  const doc = gatewayConfigDoc(info, {
    config: { identity: { oidc: { issuer: idp.issuer, audience: IDP_AUDIENCE } } },
  });
  const loaded = loadConfig(JSON.stringify(doc), gatewayEnv(info), process.cwd());
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const { bearer } = createIdentityFromConfig({ ...loaded, log: silentLogger });
  if (bearer === null) throw new Error('no bearer verifier');
  const app = createApi({
    log: silentLogger,
    routes: [
      auditRoutes({
        store: stack.sink,
        verifyBearer: bearer,
        auditorGroup: 'auditors',
        activeGrants: () => [],
        log: silentLogger,
      }),
      opsRoutes({
        health: () => ({ status: 'ok', bundle_revision: null, store: 'ok' }),
        metrics: () => '',
        version: 'e2e',
      }),
    ],
  });
  api = await serveApi(app, '127.0.0.1', 0);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await idp?.close();
  await stack?.[Symbol.asyncDispose]();
});

/** A fresh page that fails the test on any console error (a CSP violation included). */
async function openPage(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return { page, errors };
}

describe('the auditor web view', () => {
  it('shows sessions, a timeline and the blocked/masked chart from the real trail', async () => {
    const { page, errors } = await openPage(`${api.url}/#token=${token}`);
    try {
      const sessions = page.locator('#sessions tbody tr');
      await expect.poll(() => sessions.count()).toBe(2);
      // SECURITY: the token is out of the address bar as soon as the page has read it.
      expect(new URL(page.url()).hash).toBe('');
      expect(await page.locator('#login').isVisible()).toBe(false);
      const agentRow = sessions.filter({ hasText: 'svc-agent' });
      expect(await agentRow.locator('td').nth(4).textContent()).toBe('5');

      await agentRow.click();
      const steps = page.locator('#timeline tbody tr');
      await expect.poll(() => steps.count()).toBe(5);
      const outcomes = await page.locator('#timeline tbody td.outcome').allTextContents();
      expect(outcomes).toEqual(['allowed', 'masked', 'masked', 'blocked', 'blocked']);
      expect(await page.locator('#timeline-title').textContent()).toMatch(/^Session /);
      expect(await steps.nth(1).textContent()).toContain('mask public.web_orders.email');

      const bars = page.locator('#chart svg rect.bar');
      await expect.poll(() => bars.count()).toBeGreaterThan(0);
      const sum = async (cls: string) =>
        (
          await page
            .locator(`#chart svg rect.bar.${cls}`)
            .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))))
        ).reduce((a, b) => a + b, 0);
      expect([await sum('blocked'), await sum('masked')]).toEqual([3, 2]);
      expect(await page.locator('#chart-summary').textContent()).toMatch(
        /^3 blocked and 2 masked statements/,
      );
      await mkdir(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('asks for a token, refuses a bad one, and opens with a good one', async () => {
    const { page, errors } = await openPage(`${api.url}/`);
    try {
      expect(await page.locator('#login').isVisible()).toBe(true);
      expect(await page.locator('#main').isVisible()).toBe(false);
      await page.fill('#token', 'not-a-token');
      await page.click('#login button[type=submit]');
      await expect
        .poll(() => page.locator('#login-error').textContent())
        .toMatch(/^Not signed in: the access token is not valid/);
      await page.fill('#token', token);
      await page.click('#login button[type=submit]');
      await expect.poll(() => page.locator('#sessions tbody tr').count()).toBe(2);
      expect(await page.locator('#login').isVisible()).toBe(false);
      // The refused request logs a console error (401); nothing else may.
      expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
