// What the benchmark measures: each target is an endpoint a PostgreSQL client can reach. Add a target by
// appending a TargetSpec; its `name` becomes the key segment in every flat result key.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PgCluster } from '../test/harness/postgres.js';
import { spawnService } from './child.js';
import { startPgbouncer } from './pgbouncer.js';
import { BENCH_USER } from './policy.js';
import type { Endpoint } from './wire-client.js';

export interface BenchContext {
  readonly pg: PgCluster;
  /** Database holding the pgbench tables, owned by the SCRAM upstream role. */
  readonly database: string;
  /** Scratch directory removed at the end of the run. */
  readonly tmpDir: string;
  /** Repository root (dist/ and bench/ live here). */
  readonly root: string;
  /** The bench policy bundle (bench/policy.ts), served by the policy targets. */
  readonly bundleDir: string;
}

export interface RunningTarget {
  readonly name: string;
  readonly endpoint: Endpoint;
  /** The process whose memory is measured, when the target is a process of its own. */
  readonly pid: number | null;
  stop(): Promise<void>;
}

export interface TargetSpec {
  /** Key segment: lower case, digits and underscores. */
  readonly name: string;
  readonly label: string;
  /** Part of the --quick run. */
  readonly quick: boolean;
  start(ctx: BenchContext): Promise<RunningTarget>;
}

/** The role every target ends up logged in as upstream, so all compare like with like. */
export function upstreamEndpoint(ctx: BenchContext): Endpoint {
  return {
    host: '127.0.0.1',
    port: ctx.pg.port,
    user: ctx.pg.scramUser,
    password: ctx.pg.scramPassword,
    database: ctx.database,
  };
}

export const TARGETS: readonly TargetSpec[] = [
  {
    name: 'direct',
    label: 'PostgreSQL direct',
    quick: true,
    start: async (ctx) => ({
      name: 'direct',
      endpoint: upstreamEndpoint(ctx),
      pid: null,
      stop: async () => undefined,
    }),
  },
  {
    name: 'pgbouncer',
    label: 'PgBouncer session',
    quick: true,
    start: (ctx) => startPgbouncer(ctx, upstreamEndpoint(ctx)),
  },
  {
    name: 'relay',
    label: 'Node TCP relay',
    quick: true,
    start: startRelay,
  },
  {
    name: 'pgward',
    label: 'pgward workers:1',
    quick: true,
    start: (ctx) => startPgward(ctx, 'pgward', 1),
  },
  {
    name: 'pgward_policy',
    label: 'pgward+policy',
    quick: true,
    start: (ctx) => startPgward(ctx, 'pgward_policy', 1, { policy: true, audit: false }),
  },
  {
    name: 'pgward_policy_audit',
    label: 'pgward+policy+audit',
    quick: true,
    start: (ctx) => startPgward(ctx, 'pgward_policy_audit', 1, { policy: true, audit: true }),
  },
  {
    name: 'pgward_w2',
    label: 'pgward workers:2',
    quick: false,
    start: (ctx) => startPgward(ctx, 'pgward_w2', 2),
  },
];

async function startRelay(ctx: BenchContext): Promise<RunningTarget> {
  const up = upstreamEndpoint(ctx);
  const { service, value: port } = await spawnService({
    name: 'relay',
    file: process.execPath,
    args: [join(ctx.root, 'bench', 'relay.mjs'), up.host, String(up.port)],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    ready: listeningPort,
  });
  return { name: 'relay', endpoint: { ...up, port }, pid: service.pid, stop: () => service.stop() };
}

/** What a pgward target runs besides relaying: the bench policy, and the embedded chDB audit store. */
export interface PgwardMode {
  readonly policy: boolean;
  readonly audit: boolean;
}

const PASS_THROUGH: PgwardMode = { policy: false, audit: false };

/** Starts the built CLI (`npm run build` first) in front of the bench database, upstream TLS off. */
export async function startPgward(
  ctx: BenchContext,
  name: string,
  workers: number,
  mode: PgwardMode = PASS_THROUGH,
): Promise<RunningTarget> {
  const user = BENCH_USER;
  const config = {
    listen: { host: '127.0.0.1', port: 0 },
    auth: {
      allow_cleartext_on_loopback: true,
      users: [
        { name: user.name, password: { env: 'BENCH_CLIENT_PASSWORD' }, groups: [...user.groups] },
      ],
    },
    upstreams: [
      {
        name: ctx.database,
        host: '127.0.0.1',
        port: ctx.pg.port,
        database: ctx.database,
        user: ctx.pg.scramUser,
        password: { env: 'BENCH_UPSTREAM_PASSWORD' },
        tls: { mode: 'disable' },
      },
    ],
    policy: mode.policy ? { bundle_dir: ctx.bundleDir } : await passthroughPolicy(ctx.root),
    api: { enabled: false },
    // chDB allows one process per data directory: the audit target runs with workers: 1.
    audit: mode.audit
      ? { enabled: true, chdb_path: `${name}-audit/chdb`, spool_dir: `${name}-audit/spool` }
      : { enabled: false },
    workers,
    log: { level: 'info' },
  };
  // JSON is YAML; the file holds secret references only, never the secrets.
  const file = join(ctx.tmpDir, `${name}.yaml`);
  await writeFile(file, JSON.stringify(config, null, 2));
  const { service, value: port } = await spawnService({
    name,
    file: process.execPath,
    // For profiling a target: PGWARD_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
    args: [
      ...(process.env.PGWARD_BENCH_NODE_ARGS?.split(' ').filter((a) => a !== '') ?? []),
      join(ctx.root, 'dist', 'cli', 'main.js'),
      'serve',
      '--config',
      file,
    ],
    cwd: ctx.root,
    // A minimal environment: no stray PGWARD_* overrides from the caller's shell.
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      BENCH_CLIENT_PASSWORD: user.password,
      BENCH_UPSTREAM_PASSWORD: ctx.pg.scramPassword,
    },
    ready: listeningPort,
  });
  return {
    name,
    endpoint: {
      host: '127.0.0.1',
      port,
      user: user.name,
      password: user.password,
      database: ctx.database,
    },
    pid: service.pid,
    stop: () => service.stop(),
  };
}

/**
 * The passthrough figures measure pgward as a relay with no analysis or policy (`policy.disabled`).
 * The option is offered only by builds whose config schema has it, so it is set only then.
 */
async function passthroughPolicy(root: string): Promise<Record<string, unknown>> {
  const text = await readFile(join(root, 'dist', 'schemas', 'config.schema.json'), 'utf8');
  const schema = JSON.parse(text) as {
    properties?: { policy?: { properties?: { disabled?: unknown } } };
  };
  return schema.properties?.policy?.properties?.disabled === undefined ? {} : { disabled: true };
}

/** Port from a JSON log line `{"msg":"listening","port":N}` (pgward and relay.mjs both print one). */
function listeningPort(line: string): number | undefined {
  if (!line.includes('"listening"')) return undefined;
  try {
    const parsed = JSON.parse(line) as { msg?: unknown; port?: unknown };
    return parsed.msg === 'listening' && typeof parsed.port === 'number' ? parsed.port : undefined;
  } catch {
    return undefined;
  }
}
