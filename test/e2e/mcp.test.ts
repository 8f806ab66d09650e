// An MCP server works through pgward unchanged: the reference Postgres MCP server
// (@modelcontextprotocol/server-postgres, a real MCP server over stdio) gets the demo's pgward
// connection string for mcp-analytics and is driven by the MCP SDK client. Its `query` tool returns
// masked rows for a granted table and a clear refusal for a table outside the grant, and the audit
// API shows every statement under the service identity.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoInfo } from '../../cli/demo/banner.js';
import { type RunningDemo, startDemo } from '../../cli/demo/run-demo.js';
import { REPO_ROOT } from '../harness/cli-gateway.js';

const SERVER = path.join(
  REPO_ROOT,
  'node_modules/@modelcontextprotocol/server-postgres/dist/index.js',
);
let root: string;
let demo: RunningDemo;
let info: DemoInfo;
let client: Client;
let serverStderr = '';

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pgward-mcp-e2e-'));
  demo = await startDemo({
    stateDir: path.join(root, 'state'),
    ports: 'ephemeral',
    logLevel: 'error',
    out: () => {},
  });
  info = demo.info;
  const analytics = info.identities.find((i) => i.id === 'mcp-analytics')!;
  const transport = new StdioClientTransport({
    command: process.execPath,
    // The connection string exactly as the demo prints it: the MCP server is not changed at all.
    args: [SERVER, analytics.url],
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (b: Buffer) => {
    serverStderr += b.toString('utf8');
  });
  client = new Client({ name: 'pgward-e2e', version: '1.0.0' });
  await client.connect(transport);
}, 180_000);

afterAll(async () => {
  await client?.close();
  await demo?.close();
  await rm(root, { recursive: true, force: true });
});

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const result = await client.callTool({ name: 'query', arguments: { sql } });
  const content = result.content as { type: string; text: string }[];
  expect(result.isError, serverStderr).toBe(false);
  return JSON.parse(content[0]!.text) as Record<string, unknown>[];
}

async function auditFor(sub: string, expected: number): Promise<Record<string, unknown>[]> {
  // The audit writer flushes in batches: poll a bounded number of times until the records are in.
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${info.apiUrl}/v1/statements?identity=${sub}&limit=200`, {
      headers: { authorization: `Bearer ${info.auditorToken}` },
    });
    expect(res.status).toBe(200);
    const items = ((await res.json()) as { items: Record<string, unknown>[] }).items;
    if (items.length >= expected || attempt >= 50) return items;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the reference Postgres MCP server through pgward', () => {
  it('lists its tools and the database’s tables as usual', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['query']);
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.name)).toEqual(
      expect.arrayContaining(['"customers" database schema', '"orders" database schema']),
    );
  });

  it('returns masked rows for a granted table', async () => {
    const rows = await query(
      'SELECT id, full_name, email, phone, ssn, card_number FROM customers ORDER BY id LIMIT 3',
    );
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.full_name).toMatch(/^\S+ \S+$/);
      expect(row.email).toMatch(/^\*\*\*@/);
      expect(row.phone).toMatch(/^\*+\d{4}$/);
      expect(row.ssn).toBe('[redacted]');
      expect(row.card_number).toMatch(/^\*+\d{4}$/);
    }
  });

  it('refuses a table outside the grant with pgward’s reason, and stays usable', async () => {
    await expect(
      client.callTool({ name: 'query', arguments: { sql: 'SELECT * FROM staff' } }),
    ).rejects.toThrow(
      /pgward: SELECT on public\.staff is not granted to mcp-analytics \(rule access\.table\)/,
    );
    const products = await query('SELECT count(*)::int AS n FROM products');
    expect(products).toEqual([{ n: 16 }]);
  });

  it('is audited under its service identity', async () => {
    const items = await auditFor('mcp-analytics', 6);
    for (const s of items)
      expect(s).toMatchObject({ identity_sub: 'mcp-analytics', identity_via: 'credential' });
    const select = (table: string) =>
      items.filter((s) => s.command === 'SELECT' && (s.tables_read as string[]).includes(table));
    expect(select('public.customers')[0]).toMatchObject({
      outcome: 'masked',
      executed: true,
      database: 'shop',
      masked_columns: expect.arrayContaining([
        'public.customers.email',
        'public.customers.ssn',
        'public.customers.card_number',
      ]),
    });
    expect(select('public.staff')[0]).toMatchObject({
      outcome: 'blocked',
      executed: false,
      sqlstate: '42501',
      rule_ids: ['access.table'],
    });
    // The MCP server wraps each query in a read-only transaction; the gateway judged those too.
    expect(items.some((s) => s.command === 'BEGIN')).toBe(true);
  });
});
