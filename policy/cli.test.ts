// policyTest runs schema validation, opa fmt --list, opa check --strict and opa test on a policy
// repository and returns one structured result.

import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { policyBuild, policyTest } from './cli.js';
import { OPA_PATH, TEMPLATE_DIR, TEST_REVISION, tempDir } from './testing/template-bundle.js';

describe('policyTest', () => {
  it('passes on the template, with at least 60 Rego tests', async () => {
    const result = await policyTest(TEMPLATE_DIR, OPA_PATH);
    expect(result.schema).toMatchObject({ ok: true, problems: [] });
    expect(result.schema.files).toBeGreaterThanOrEqual(8);
    expect(result.format).toMatchObject({ ok: true, files: [] });
    expect(result.check.ok).toBe(true);
    expect(result.tests).toMatchObject({ ok: true, failed: 0, errored: 0, failures: [] });
    expect(result.tests.passed).toBeGreaterThanOrEqual(60);
    expect(result.ok).toBe(true);
  });

  it('reports schema problems, unformatted files, strict-check errors and failing tests', async () => {
    await using dir = await tempDir();
    await cp(TEMPLATE_DIR, dir.path, { recursive: true });
    await writeFile(path.join(dir.path, 'grants', 'bad.json'), JSON.stringify({ id: 'bad' }));
    await writeFile(
      path.join(dir.path, 'pgward', 'extra_test.rego'),
      'package pgward_test\nimport data.pgward\nimport data.unused\ntest_fails if pgward.decision.allow == true\n',
    );
    const result = await policyTest(dir.path, OPA_PATH);
    expect(result.ok).toBe(false);
    expect(result.schema.ok).toBe(false);
    expect(result.schema.problems.some((p) => p.file === 'grants/bad.json')).toBe(true);
    expect(result.format.files).toEqual(['pgward/extra_test.rego']);
    expect(result.check.ok).toBe(false);
    expect(result.check.output).toContain('unused');
    expect(result.tests.ok).toBe(false);
  });

  it('reports a failing Rego test by name and location', async () => {
    await using dir = await tempDir();
    await cp(TEMPLATE_DIR, dir.path, { recursive: true });
    await writeFile(
      path.join(dir.path, 'pgward', 'extra_test.rego'),
      'package pgward_test\n\nimport data.pgward\n\ntest_deny_is_allow if pgward.decision.allow == true\n',
    );
    const result = await policyTest(dir.path, OPA_PATH);
    expect(result.tests.failed).toBe(1);
    expect(result.tests.failures).toEqual([
      expect.objectContaining({
        name: 'test_deny_is_allow',
        package: 'data.pgward_test',
        file: 'pgward/extra_test.rego',
        row: 5,
      }),
    ]);
  });
});

describe('policyBuild', () => {
  it('returns problems as a value', async () => {
    await using dir = await tempDir();
    await using out = await tempDir();
    await cp(TEMPLATE_DIR, dir.path, { recursive: true });
    await writeFile(path.join(dir.path, 'data', 'masking.json'), '{"masking": {"a.b.c": "rot13"}}');
    const result = await policyBuild({
      sourceDir: dir.path,
      outDir: out.path,
      opaPath: OPA_PATH,
      revision: TEST_REVISION,
    });
    expect(result).toMatchObject({ ok: false, code: 'PGW_POLICY_SOURCE_INVALID' });
    expect(!result.ok && result.problems[0]).toMatchObject({
      file: 'data/masking.json',
      pointer: '/masking/a.b.c',
    });
  });
});
