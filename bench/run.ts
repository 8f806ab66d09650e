// Benchmark orchestrator: PostgreSQL direct vs PgBouncer vs a bare Node relay vs pgward, one run on
// this machine. Measures and prints, never asserts. `tsx bench/run.ts [--quick] [--json]`
// (`--seconds N`, `--rounds N`, `--idle-conns N`). Needs `npm run build` first (pgward runs from dist/).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startPostgres } from '../test/harness/postgres.js';
import { runBulk } from './bulk.js';
import { assertNever, CELLS, type Cell } from './cells.js';
import { measureIdleRss } from './idle.js';
import { initPgbench, runningPgbench, runPgbench } from './pgbench.js';
import {
  type Figures,
  flatten,
  HEADLINES,
  median,
  noise,
  Results,
  renderTable,
  type Sample,
} from './report.js';
import { type BenchContext, type RunningTarget, TARGETS, upstreamEndpoint } from './targets.js';

const DATABASE = 'bench';
const SCALE = 10; // 1,000,000 pgbench_accounts rows: also the bulk-read table
const WARMUP_SECONDS = 2;

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    'idle-conns': { type: 'string' },
  },
});
const quick = argv.quick ?? false;
const seconds = intArg(argv.seconds, 3);
const rounds = intArg(argv.rounds, 5);
const idleConns = intArg(argv['idle-conns'], 200);

const t0 = performance.now();
const log = (line: string) =>
  process.stderr.write(`[+${Math.round((performance.now() - t0) / 1000)}s] ${line}\n`);

// Cleanup runs once, in reverse order of acquisition, on success, error or signal.
const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const pid of runningPgbench) killQuietly(pid);
    for (let step = cleanups.pop(); step !== undefined; step = cleanups.pop()) {
      await step().catch((err: unknown) => log(`cleanup: ${(err as Error).message}`));
    }
  })();
  return cleaning;
}

/** Registers a resource's release; one acquired after an interrupt is released at once. */
async function own(release: () => Promise<void>): Promise<void> {
  if (cleaning === null) {
    cleanups.push(release);
    return;
  }
  await release().catch(() => undefined);
  throw new Interrupted();
}

class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

/** Ends the measurement loop promptly once a signal has started the cleanup. */
function checkInterrupt(): void {
  if (cleaning !== null) throw new Interrupted();
}

let mainSettled: Promise<void> = Promise.resolve();

// A terminal's Ctrl-C reaches this process twice (directly and relayed by tsx): the third one forces exit.
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (++signals >= 3) process.exit(130);
    if (cleaning !== null) return;
    log(`${signal}: stopping targets and the cluster...`);
    // Waiting for main as well releases whatever it was acquiring when the signal came (see own()).
    void cleanup()
      .then(() => mainSettled)
      .finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  }
  const tmpDir = await mkdtemp(join(tmpdir(), 'pgward-bench-'));
  await own(() => rm(tmpDir, { recursive: true, force: true }));

  log(`starting PostgreSQL (TLS off) and loading pgbench scale ${SCALE}...`);
  const pg = await startPostgres({ tls: false, maxConnections: 600 });
  await own(async () => {
    await pg[Symbol.asyncDispose]();
  });
  await pg.psql(`CREATE DATABASE ${DATABASE} OWNER ${pg.scramUser};`, 'postgres');
  const ctx: BenchContext = { pg, database: DATABASE, tmpDir, root };
  await initPgbench(upstreamEndpoint(ctx), SCALE);
  await pg.psql('CHECKPOINT;', DATABASE);

  const specs = TARGETS.filter((t) => !quick || t.quick);
  const cells = CELLS.filter((c) => !quick || c.quick);
  const targets: RunningTarget[] = [];
  for (const spec of specs) {
    const target = await spec.start(ctx);
    await own(() => target.stop());
    targets.push(target);
    log(`target ${spec.name} on port ${target.endpoint.port}`);
  }
  for (const t of targets) {
    checkInterrupt();
    // Warms pgward's JIT, PgBouncer's pool and the buffer cache before anything is recorded.
    await runPgbench(t.endpoint, {
      workload: 'S',
      mode: 'simple',
      clients: 8,
      seconds: WARMUP_SECONDS,
    });
  }

  const results = new Results();
  // Other work on the machine shows up here; our own load at 32 clients is about 2-4 on its own.
  const loads: number[] = [];
  const total = rounds * cells.length * targets.length;
  let done = 0;
  for (let round = 0; round < rounds; round++) {
    for (const [index, cell] of cells.entries()) {
      // Rotating the order per cell and round spreads drift and warm-up effects over all targets.
      for (const t of rotate(targets, round + index)) {
        checkInterrupt();
        const entry = results.at(cell.id, t.name);
        loads.push(loadavg()[0] ?? 0);
        try {
          const sample = await measure(cell, t);
          entry.samples.push(sample);
          log(`[${++done}/${total}] round ${round + 1} ${cell.id} ${t.name}: ${describe(sample)}`);
        } catch (err) {
          checkInterrupt();
          entry.errors.push((err as Error).message);
          log(
            `[${++done}/${total}] round ${round + 1} ${cell.id} ${t.name}: FAILED ${(err as Error).message}`,
          );
        }
      }
    }
  }

  log(`idle memory: ${idleConns} connections through a fresh pgward, ${rounds} rounds...`);
  const idle = [];
  for (let round = 0; round < rounds; round++) {
    checkInterrupt();
    const sample = await measureIdleRss(ctx, idleConns);
    idle.push(sample);
    log(
      `idle round ${round + 1}: base ${sample.baseKb} kB, ${sample.perConnKb.toFixed(1)} kB per connection`,
    );
  }

  await cleanup();
  const names = targets.map((t) => t.name);
  const figures: Figures = flatten(cells, names, results);
  figures.idle_rss_kb_per_conn = roundTo(median(idle.map((s) => s.perConnKb)), 1);
  figures.idle_rss_kb_base = roundTo(median(idle.map((s) => s.baseKb)), 0);
  const headlines: Figures = {};
  for (const h of HEADLINES) headlines[h.key] = h.compute(figures);
  headlines.idle_rss_kb_per_conn = figures.idle_rss_kb_per_conn;
  const meta: Figures = {
    bench_quick: quick ? 1 : 0,
    bench_rounds: rounds,
    bench_seconds: seconds,
    bench_cpus: availableParallelism(),
    bench_idle_conns: idleConns,
    ...noise(cells, names, results),
    bench_loadavg_1m_median: roundTo(median(loads), 2),
    bench_loadavg_1m_max: roundTo(loads.length > 0 ? Math.max(...loads) : null, 2),
    bench_wall_s: Math.round((performance.now() - t0) / 1000),
  };

  const print = (line: string) => process.stdout.write(`${line}\n`);
  print(`pgward benchmark (${quick ? 'quick' : 'full'}): median of ${rounds} interleaved rounds`);
  print('lat ms = mean latency = clients / TPS; spread = (max - min) / median over the rounds;');
  print('x<target> = this row / that target (TPS or rows/s).');
  print(renderTable(cells, specs, results, seconds));
  print('');
  for (const [key, value] of Object.entries({ ...headlines, ...meta })) print(`${key} = ${value}`);
  if (argv.json) print(JSON.stringify({ ...headlines, ...figures, ...meta }));
}

function measure(cell: Cell, t: RunningTarget): Promise<Sample> {
  switch (cell.kind) {
    case 'pgbench':
      return runPgbench(t.endpoint, { ...cell, seconds });
    case 'bulk':
      return runBulk(t.endpoint, cell.bulk).then((s) => {
        if (s.rows !== SCALE * 100_000) log(`warning: ${t.name} returned ${s.rows} rows`);
        return s;
      });
    default:
      return assertNever(cell);
  }
}

function describe(s: Sample): string {
  if ('tps' in s) {
    const failed = s.failed > 0 ? ` (${s.failed} failed tx)` : '';
    return `${s.tps.toFixed(1)} tps, ${s.latencyMs.toFixed(3)} ms${failed}`;
  }
  return `${Math.round(s.rowsPerSec)} rows/s, ${s.mbPerSec.toFixed(1)} MB/s, ${s.seconds.toFixed(2)} s`;
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function intArg(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`expected a positive integer, got ${value}`);
  return n;
}

const roundTo = (v: number | null, digits: number): number | null =>
  v === null ? null : Number(v.toFixed(digits));

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

mainSettled = main().then(
  () => process.exit(0),
  async (err: unknown) => {
    // After a signal, failures are its echo; the signal handler finishes the cleanup and exits.
    if (cleaning !== null) return;
    log(`bench failed: ${(err as Error).stack ?? String(err)}`);
    await cleanup();
    process.exit(1);
  },
);
