// The CI workflows scaffolded into a policy repository, and the `pgward` commands each one runs,
// read from the YAML itself, so tests run exactly what CI runs.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';

export const WORKFLOWS = {
  /** Every pull request: schemas, opa fmt/check/test, grant rules, dry run. */
  pullRequest: '.github/workflows/pull-request.yml',
  /** Every push to main: checks, build, publish to the bundle branch. */
  main: '.github/workflows/main.yml',
  /** Scheduled: prune expired grants through a pull request. */
  prune: '.github/workflows/prune.yml',
} as const;

export type WorkflowName = keyof typeof WORKFLOWS;

export interface WorkflowCommands {
  /** Each `npx pgward …` line as argv, starting with `pgward`, in the order the steps run. */
  readonly pgward: readonly (readonly string[])[];
  /** Every other `run:` line (package installation). */
  readonly other: readonly string[];
}

/** Characters a pgward command line must not hold: it is run as plain argv, with no shell. */
const SHELL_SYNTAX = /[$`'"\\;&|<>*?(){}[\]~]/;

export function workflowCommands(yamlText: string): WorkflowCommands {
  const doc = parse(yamlText) as { jobs?: Record<string, { steps?: unknown[] }> } | null;
  const pgward: string[][] = [];
  const other: string[] = [];
  for (const job of Object.values(doc?.jobs ?? {})) {
    for (const step of job.steps ?? []) {
      const run = (step as { run?: unknown } | null)?.run;
      if (typeof run !== 'string') continue;
      for (const raw of run.split('\n')) {
        const line = raw.trim();
        if (line === '' || line.startsWith('#')) continue;
        if (!/^(npx\s+)?pgward\s/.test(line)) {
          other.push(line);
          continue;
        }
        if (SHELL_SYNTAX.test(line))
          throw new Error(`workflow command "${line}" uses shell syntax; pgward commands are argv`);
        pgward.push(line.split(/\s+/).slice(line.startsWith('npx') ? 1 : 0));
      }
    }
  }
  return { pgward, other };
}

export async function readWorkflowCommands(
  repoDir: string,
  name: WorkflowName,
): Promise<WorkflowCommands> {
  return workflowCommands(await readFile(path.join(repoDir, WORKFLOWS[name]), 'utf8'));
}
