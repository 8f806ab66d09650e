#!/usr/bin/env node
// The `pgward` command line and composition root: the only module that reads process.env.

// First, before any module that compiles WebAssembly is evaluated.
import './eager-wasm.js';
import { parseArgs } from 'node:util';
import { APPROVALS_USAGE, approvalsCommand, checkApprovalCommand } from './approval-commands.js';
import {
  AUDIT_USAGE,
  auditCommand,
  POLICY_IMPACT_USAGE,
  policyImpactCommand,
  REPLAY_USAGE,
  replayCommand,
} from './audit-commands.js';
import { loadConfigFile } from './config.js';
import {
  CREDENTIALS_USAGE,
  credentialsCommand,
  LOGIN_USAGE,
  loginCommand,
} from './credentials-command.js';
import { DEMO_USAGE, demoCommand } from './demo-command.js';
import { policyCommand } from './policy-commands.js';
import {
  POLICY_REPO_SUBCOMMANDS,
  POLICY_REPO_USAGE,
  policyRepoCommand,
  requestCommand,
} from './policy-repo-commands.js';
import { serve } from './serve.js';

const USAGE = () => `usage: pgward <command> [options]

commands:
  serve --config <file>     run the gateway
${DEMO_USAGE}
  config check --config <file>
                            validate a config file and print every problem
  policy build --source <dir> --out <dir> [--revision <sha>]
                            validate, test-compile and build the WASM policy bundle
  policy test --source <dir>
                            schema-validate JSON, opa fmt/check, opa test
${POLICY_REPO_USAGE}
${POLICY_IMPACT_USAGE}
${APPROVALS_USAGE}
${AUDIT_USAGE}
${REPLAY_USAGE}
${CREDENTIALS_USAGE}
${LOGIN_USAGE}
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return runServe(rest);
    case 'demo':
      return demoCommand(rest, process.env);
    case 'config':
      return runConfigCheck(rest);
    case 'policy':
      if (rest[0] === 'impact') return policyImpactCommand(rest.slice(1), process.env);
      if (rest[0] === 'check-approval') return checkApprovalCommand(rest.slice(1));
      return POLICY_REPO_SUBCOMMANDS.has(rest[0] ?? '')
        ? policyRepoCommand(rest, process.env)
        : policyCommand(rest, process.env);
    case 'audit':
      return auditCommand(rest, process.env);
    case 'approvals':
      return approvalsCommand(rest, process.env);
    case 'replay':
      return replayCommand(rest, process.env);
    case 'request':
      return requestCommand(rest, process.env);
    case 'credentials':
      return credentialsCommand(rest, process.env);
    case 'login':
      return loginCommand(rest, process.env);
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE());
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`pgward: unknown command "${command}"\n${USAGE()}`);
      return 2;
  }
}

function configFrom(args: string[]) {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' } },
    allowPositionals: true,
  });
  const file = values.config ?? process.env.PGWARD_CONFIG;
  if (file === undefined) {
    process.stderr.write('pgward: --config <file> is required\n');
    return null;
  }
  const result = loadConfigFile(file, process.env);
  if (!result.ok) {
    process.stderr.write(`pgward: invalid config ${file}:\n`);
    for (const p of result.problems) process.stderr.write(`  ${p.pointer}: ${p.message}\n`);
    return null;
  }
  return result;
}

async function runServe(args: string[]): Promise<number> {
  const loaded = configFrom(args);
  if (loaded === null) return 2;
  await serve({
    config: loaded.config,
    secret: loaded.secret,
    configDir: loaded.configDir,
    env: process.env,
  });
  return -1;
}

function runConfigCheck(args: string[]): number {
  if (args[0] === 'check') args = args.slice(1);
  const loaded = configFrom(args);
  if (loaded === null) return 2;
  process.stdout.write('config ok\n');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`pgward: ${(err as Error).message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
