// `pgward serve` with its HTTP API: health with the serving bundle, Prometheus metrics fed by real
// statements, and the OpenAPI document, from the built CLI.
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { REPO_ROOT, startCliGateway } from '../harness/cli-gateway.js';

const info = inject('pg');

describe('pgward serve: HTTP API', () => {
  it('serves health, metrics and the OpenAPI document next to the gateway', async () => {
    await using gw = await startCliGateway(info, {
      config: {
        api: { enabled: true, host: '127.0.0.1', port: 0 },
        policy: { disabled: false, bundle_dir: `${REPO_ROOT}/policy/example-bundle` },
      },
    });
    const ready = await gw.waitForLog((r) => r.msg === 'api listening', 'the API');
    const base = String(ready.url);
    const health = (await (await fetch(`${base}/healthz`)).json()) as { bundle_revision: string };
    expect(health).toMatchObject({ status: 'ok', store: 'ok' });
    expect(health.bundle_revision).toMatch(/^[0-9a-f]{64}$/);

    // svc-agent has no grant in the example bundle: refused, and counted as blocked.
    const c = new pg.Client({ connectionString: gw.url() });
    await c.connect();
    await expect(c.query('select * from app_secret_table')).rejects.toMatchObject({
      code: '42501',
    });
    await c.end();
    await expect
      .poll(
        async () =>
          (await (await fetch(`${base}/metrics`)).text()).match(
            /pgward_statements_total\{outcome="blocked"\} (\d+)/,
          )?.[1],
      )
      .toBe('1');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(
      `pgward_bundle_revision_info{revision="${health.bundle_revision}"} 1`,
    );
    expect(metrics).toMatch(/pgward_sessions \d+/);
    expect(metrics).toMatch(/pgward_audit_queue_depth \d+/);

    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
      openapi: string;
      paths: object;
    };
    expect(doc.openapi).toMatch(/^3\.1/);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/metrics']));
    // Without an OpenID provider there is no way to authenticate auditors: the audit API is not mounted.
    expect(Object.keys(doc.paths)).not.toContain('/v1/statements');
    expect((await fetch(`${base}/v1/statements`)).status).toBe(404);
  });

  it('with several workers the primary serves the API and learns the bundle from the workers', async () => {
    await using gw = await startCliGateway(info, {
      config: {
        workers: 2,
        api: { enabled: true, host: '127.0.0.1', port: 0 },
        policy: { disabled: false, bundle_dir: `${REPO_ROOT}/policy/example-bundle` },
      },
    });
    const ready = await gw.waitForLog((r) => r.msg === 'api listening', 'the API');
    const base = String(ready.url);
    await expect
      .poll(
        async () => ((await (await fetch(`${base}/healthz`)).json()) as { status: string }).status,
        {
          timeout: 15_000,
        },
      )
      .toBe('ok');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/pgward_bundle_revision_info\{revision="[0-9a-f]{64}"\} 1/);
  });
});
