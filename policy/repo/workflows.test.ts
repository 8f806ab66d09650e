// The scaffolded CI workflows: valid GitHub Actions workflows (@action-validator), hardened, and
// running exactly the pgward commands the tests run.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPA_PATH, REPO_ROOT } from '../testing/template-bundle.js';
import { WORKFLOWS, type WorkflowName, workflowCommands } from './workflows.js';

const validator = createRequire(import.meta.url)(
  '@action-validator/core',
) as typeof import('@action-validator/core');

const TEMPLATE = path.join(REPO_ROOT, 'policy', 'repo-template');
const text = (name: WorkflowName) => readFileSync(path.join(TEMPLATE, WORKFLOWS[name]), 'utf8');
const names = Object.keys(WORKFLOWS) as WorkflowName[];

interface Workflow {
  permissions?: Record<string, string>;
  jobs: Record<
    string,
    {
      'timeout-minutes'?: number;
      permissions?: Record<string, string>;
      steps: { uses?: string; run?: string; with?: Record<string, unknown> }[];
    }
  >;
}

describe('scaffolded workflows', () => {
  it.each(names)('%s is a valid GitHub Actions workflow', (name) => {
    expect(validator.validateWorkflow(text(name)).errors).toEqual([]);
  });

  it('the validator does catch a broken workflow', () => {
    const broken = text('main').replace('runs-on:', 'runs-onn:');
    expect(validator.validateWorkflow(broken).errors.length).toBeGreaterThan(0);
  });

  it.each(names)(
    '%s is hardened: read-only by default, timeouts, actions pinned by major',
    (name) => {
      const doc = parse(text(name)) as Workflow;
      expect(doc.permissions).toEqual({ contents: 'read' });
      for (const job of Object.values(doc.jobs)) {
        expect(job['timeout-minutes']).toBeGreaterThan(0);
        expect(job['timeout-minutes']).toBeLessThanOrEqual(15);
        for (const [scope, level] of Object.entries(job.permissions ?? {})) {
          expect(['contents', 'pull-requests']).toContain(scope);
          expect(level).toBe('write');
        }
        for (const step of job.steps) {
          if (step.uses !== undefined) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@v\d+$/);
        }
      }
    },
  );

  it('only the workflows that push get write permissions', () => {
    const writes = (name: WorkflowName) =>
      Object.values((parse(text(name)) as Workflow).jobs).flatMap((j) =>
        Object.keys(j.permissions ?? {}),
      );
    expect(writes('pullRequest')).toEqual([]);
    expect(writes('main')).toEqual(['contents']);
    expect(writes('prune').sort()).toEqual(['contents', 'pull-requests']);
  });

  it('install the OPA version the project pins', () => {
    const pinned = /^Version:\s*(\S+)/m.exec(
      execFileSync(OPA_PATH, ['version'], { encoding: 'utf8' }),
    )?.[1];
    for (const name of ['pullRequest', 'main'] as const) {
      const steps = Object.values((parse(text(name)) as Workflow).jobs).flatMap((j) => j.steps);
      const opa = steps.find((s) => s.uses?.startsWith('open-policy-agent/setup-opa@'));
      expect(String(opa?.with?.version)).toBe(pinned);
    }
  });

  it('run exactly these pgward commands, and otherwise only install pgward', () => {
    expect(workflowCommands(text('pullRequest'))).toEqual({
      pgward: [
        ['pgward', 'policy', 'test', '--source', '.'],
        ['pgward', 'policy', 'check-grants', '--source', '.'],
      ],
      other: ['npm install --no-audit --no-fund'],
    });
    expect(workflowCommands(text('main'))).toEqual({
      pgward: [
        ['pgward', 'policy', 'test', '--source', '.'],
        ['pgward', 'policy', 'build', '--source', '.', '--out', 'bundle'],
        ['pgward', 'policy', 'publish', '--bundle', 'bundle', '--branch', 'pgward-bundle'],
      ],
      other: ['npm install --no-audit --no-fund'],
    });
    expect(workflowCommands(text('prune'))).toEqual({
      pgward: [
        [
          'pgward',
          'policy',
          'prune',
          '--source',
          '.',
          '--branch',
          'prune/expired',
          '--push',
          '--open-pr',
        ],
      ],
      other: ['npm install --no-audit --no-fund'],
    });
  });

  it('refuses a pgward line with shell syntax (it could not run as the same argv)', () => {
    const yaml = 'jobs:\n  a:\n    steps:\n      - run: npx pgward policy build --out "$DIR"\n';
    expect(() => workflowCommands(yaml)).toThrow(/shell syntax/);
  });
});
