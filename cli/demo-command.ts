// `pgward demo`: the whole story in one command, with nothing configured and nothing else installed —
// embedded upstream databases, a development IdP, a policy repository with a bundle branch, the
// gateway, the audit store and the API with its web view. Runs until Ctrl-C (or SIGTERM).

import { parseArgs } from 'node:util';
import type { LogLevel } from '../lib/log.js';
import { readyBanner } from './demo/banner.js';
import type { RunningDemo } from './demo/run-demo.js';

export const DEMO_USAGE = `  demo [--state-dir .pgward/demo] [--ports 0] [--log-level warn]
                            the whole story on this machine: two shop databases, an IdP, a policy
                            repository, the gateway, audit and API (--ports 0: every port picked freely)
`;

const LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warn', 'error']);

export interface DemoIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Resolves with the signal that asks the demo to stop (default: SIGINT or SIGTERM). */
  readonly stopSignal?: () => Promise<string>;
}

const processIo: DemoIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

function signals(io: DemoIo): Promise<string> {
  return new Promise((resolve) => {
    let asked = false;
    const on = (signal: string) => {
      if (asked) {
        io.stderr('pgward demo: stopping at once\n');
        process.exit(130);
      }
      asked = true;
      io.stderr(`pgward demo: stopping (${signal}); press Ctrl-C again to force\n`);
      resolve(signal);
    };
    process.on('SIGINT', () => on('SIGINT'));
    process.on('SIGTERM', () => on('SIGTERM'));
  });
}

/** Runs `pgward demo …` until stopped; 0 after a clean stop. */
export async function demoCommand(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  io: DemoIo = processIo,
): Promise<number> {
  let values: { 'state-dir'?: string; ports?: string; 'log-level'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        'state-dir': { type: 'string' },
        ports: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.stderr(`pgward demo: ${(err as Error).message}\nusage:\n${DEMO_USAGE}`);
    return 2;
  }
  if (values.help === true) {
    io.stdout(`usage:\n${DEMO_USAGE}`);
    return 0;
  }
  const ports = values.ports ?? 'default';
  const level = values['log-level'] ?? 'warn';
  if ((ports !== 'default' && ports !== '0') || !LEVELS.has(level)) {
    io.stderr(`pgward demo: --ports takes 0 (or default), --log-level debug|info|warn|error\n`);
    return 2;
  }
  const stop = io.stopSignal?.() ?? signals(io);
  io.stderr(
    'pgward demo: starting (embedded PostgreSQL, IdP, policy repository, gateway, audit)…\n',
  );
  let demo: RunningDemo;
  try {
    // Loaded here, not with the CLI: the demo's IdP and databases are for this command only.
    const { startDemo } = await import('./demo/run-demo.js');
    demo = await startDemo({
      stateDir: values['state-dir'] ?? env.PGWARD_DEMO_STATE_DIR ?? '.pgward/demo',
      ports: ports === '0' ? 'ephemeral' : 'default',
      logLevel: level as LogLevel,
      out: io.stdout,
    });
  } catch (err) {
    io.stderr(`pgward demo: could not start: ${describe(err)}\n`);
    return 1;
  }
  io.stdout(readyBanner(demo.info));
  await stop;
  try {
    await demo.close();
  } catch (err) {
    io.stderr(`pgward demo: stopped with an error: ${describe(err)}\n`);
    return 1;
  }
  io.stderr('pgward demo: stopped\n');
  return 0;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.code === 'EADDRINUSE')
    return `port ${e.port ?? '?'} is in use: stop what uses it, or run with --ports 0`;
  const cause = e?.cause instanceof Error ? ` (${e.cause.message})` : '';
  return `${e?.message ?? String(err)}${cause}`;
}
