// buildBundle with the real pinned opa: the template builds; an invalid source is refused with
// every problem at once (file + JSON pointer); approvals in the source reach the decision;
// Rego errors, host built-ins and failing canaries stop the build.

import { createHash } from 'node:crypto';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEvaluator } from '../decider/evaluator.js';
import { PolicyError } from '../errors.js';
import {
  OPA_PATH,
  policyInput,
  TEMPLATE_DIR,
  TEST_REVISION,
  type TempDir,
  tempDir,
} from '../testing/template-bundle.js';
import { buildBundle } from './build.js';
import { loadBundle } from './load.js';
import { sha256Hex } from './manifest.js';

let source: TempDir;
let out: TempDir;

beforeEach(async () => {
  source = await tempDir('pgward-source-');
  out = await tempDir('pgward-out-');
  await cp(TEMPLATE_DIR, source.path, { recursive: true });
});

afterEach(async () => {
  await source[Symbol.asyncDispose]();
  await out[Symbol.asyncDispose]();
});

const build = (revision = TEST_REVISION) =>
  buildBundle({
    sourceDir: source.path,
    outDir: out.path,
    opaPath: OPA_PATH,
    revision,
    now: () => new Date('2026-11-25T10:00:00Z'),
  });
const put = (rel: string, doc: unknown) =>
  writeFile(
    path.join(source.path, rel),
    typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2),
  );
const grantFile = async (rel: string) =>
  JSON.parse(await readFile(path.join(TEMPLATE_DIR, rel), 'utf8'));

async function buildError(): Promise<PolicyError> {
  const err = await build().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PolicyError);
  return err as PolicyError;
}

describe('buildBundle', () => {
  it('builds the template: files, digests and manifest', async () => {
    const manifest = await build();
    expect(manifest).toMatchObject({
      format: 1,
      revision: TEST_REVISION,
      built_at: '2026-11-25T10:00:00.000Z',
      opa_version: '1.22.2',
      entrypoint: 'pgward/decision',
    });
    expect((await readdir(out.path)).sort()).toEqual([
      'canary.json',
      'data.json',
      'manifest.json',
      'policy.wasm',
    ]);
    for (const f of manifest.files) {
      const bytes = await readFile(path.join(out.path, f.path));
      expect(sha256Hex(bytes)).toBe(f.sha256);
      expect(bytes.length).toBe(f.size);
    }
    const data = JSON.parse(await readFile(path.join(out.path, 'data.json'), 'utf8'));
    expect(Object.keys(data).sort()).toEqual([
      'approval_triggers',
      'approvals',
      'enforce',
      'grants',
      'guardrails',
      'implicit_catalog_reads',
      'implicit_function_schemas',
      'masking',
      'masking_inference_protection',
      'max_approval_lifetime_hours',
      'max_grant_lifetime_hours',
      'max_rows',
    ]);
    expect(data.grants.map((g: { id: string }) => g.id)).toEqual([
      '2026-11-24-svc-reporting-orders',
      '2026-11-25-group-ops-orders-maintenance',
      '2026-11-25-support-alice-customer-contact',
    ]);
    expect(data.grants[0].$schema).toBeUndefined();
  });

  it('builds without canary.json and removes a stale one', async () => {
    await build();
    await rm(path.join(source.path, 'canary.json'));
    const manifest = await build();
    expect(manifest.files.map((f) => f.path)).toEqual(['policy.wasm', 'data.json']);
    expect(await readdir(out.path)).not.toContain('canary.json');
  });

  it('reports every problem of an invalid source at once, with file and pointer', async () => {
    const grant = await grantFile('grants/2026-11-24-svc-reporting-orders.json');
    await put('grants/2026-11-24-svc-reporting-orders.json', {
      ...grant,
      requester: undefined,
      expires_at: '2026-12-08 09:00',
    });
    await put('grants/misnamed.json', { ...grant, id: 'another-grant' });
    await put('grants/too-long.json', {
      ...grant,
      id: 'too-long',
      expires_at: '2027-06-01T00:00:00Z',
    });
    await put('grants/broken.json', '{ "id": ');
    await put('approvals/2026-11-25-x.json', {
      id: '2026-11-25-x',
      identity: { sub: 'bob' },
      database: 'app',
      sql: 'DELETE FROM orders WHERE id = 1',
      sha256: '0'.repeat(64),
      not_before: '2026-11-25T10:00:00Z',
      expires_at: '2026-11-25T11:00:00Z',
    });
    await put('data/extra.json', { masking: {}, grants: [] });
    await put('data/bad-guardrail.json', {
      guardrails: { 'guardrail.parse_error': { enforce: false } },
    });

    const err = await buildError();
    expect(err.code).toBe('PGW_POLICY_SOURCE_INVALID');
    const seen = err.problems.map((p) => `${p.file}#${p.pointer}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        'grants/2026-11-24-svc-reporting-orders.json#',
        'grants/2026-11-24-svc-reporting-orders.json#/expires_at',
        'grants/misnamed.json#/id',
        'grants/too-long.json#/expires_at',
        'grants/broken.json#',
        'approvals/2026-11-25-x.json#/sha256',
        'data/masking.json#/masking',
        'data/extra.json#/grants',
        'data/bad-guardrail.json#/guardrails/guardrail.parse_error/enforce',
      ]),
    );
    expect(err.message).toContain('grants/too-long.json#/expires_at: makes the grant last');
    expect(err.message).toContain("must have required property 'requester'");
    expect(await readdir(out.path)).toEqual([]);
  });

  it('merges approvals from the source, and the decision uses them', async () => {
    const sql = 'DELETE FROM orders WHERE id = 42';
    const sha256 = createHash('sha256').update(sql).digest('hex');
    await put('approvals/2026-11-25-bob-delete-42.json', {
      $schema: 'https://pgward.dev/schemas/approval.schema.json',
      id: '2026-11-25-bob-delete-42',
      identity: { sub: 'oncall-bob' },
      database: 'app',
      sql,
      sha256,
      requested_at: '2026-11-25T09:55:00Z',
      not_before: '2026-11-25T10:00:00Z',
      expires_at: '2026-11-25T18:00:00Z',
    });
    await build();
    const loaded = await loadBundle(out.path);
    if (!loaded.ok) throw new Error(loaded.message);
    const evaluator = await createEvaluator(loaded);
    const del = (sha: string) =>
      evaluator.evaluate(
        policyInput({
          sub: 'oncall-bob',
          groups: ['ops'],
          statement: {
            command: 'DELETE',
            sha256: sha,
            reads: [],
            writes: [{ schema: 'public', table: 'orders', action: 'delete', has_where: true }],
          },
        }),
      );
    expect(del(sha256)).toMatchObject({
      allow: true,
      approval: { required: true, id: '2026-11-25-bob-delete-42' },
    });
    expect(del('1'.repeat(64))).toMatchObject({ allow: false, outcome: 'approval_required' });
  });

  it('refuses a revision that is not a commit sha', async () => {
    await expect(build('main')).rejects.toMatchObject({ code: 'PGW_POLICY_SOURCE_INVALID' });
  });

  it('reports a Rego compile error from opa', async () => {
    await put('pgward/broken.rego', 'package pgward\n\nbroken := if {\n');
    const err = await buildError();
    expect(err.code).toBe('PGW_POLICY_OPA_FAILED');
    expect(err.message).toContain('broken.rego');
  });

  it('refuses a policy that needs host built-ins', async () => {
    await put(
      'pgward/extra.rego',
      'package pgward\n\nlabel := sprintf("%s", [input.identity.sub])\n\nlabelled if label\n',
    );
    const decision = await readFile(path.join(source.path, 'pgward/decision.rego'), 'utf8');
    await put(
      'pgward/decision.rego',
      decision.replace('"allow": allow,', '"allow": allow,\n\t"label": label,'),
    );
    const err = await buildError();
    expect(err.code).toBe('PGW_POLICY_WASM_REJECTED');
    expect(err.message).toContain('sprintf');
  });

  it('stops on a failing canary', async () => {
    const canary = JSON.parse(await readFile(path.join(source.path, 'canary.json'), 'utf8'));
    canary.cases[1].expect = { outcome: 'allowed' };
    await put('canary.json', canary);
    const err = await buildError();
    expect(err.code).toBe('PGW_POLICY_CANARY_FAILED');
    expect(err.problems[0]).toMatchObject({ file: 'canary.json', pointer: '/cases/1' });
    expect(err.message).toContain('outcome is blocked, expected allowed');
  });

  it('reports a missing opa binary', async () => {
    await expect(
      buildBundle({
        sourceDir: source.path,
        outDir: out.path,
        opaPath: '/nonexistent/opa',
        revision: TEST_REVISION,
      }),
    ).rejects.toMatchObject({ code: 'PGW_POLICY_OPA_FAILED' });
  });
});
