// Benchmark orchestrator: PostgreSQL direct vs PgBouncer vs a bare Node relay vs pgward (pass-through,
// with policy, with policy and audit), one run on this machine, plus in-process micro-benchmarks. Measures
// and prints, never asserts. `tsx bench/run.ts [--quick] [--json] [--micro]` (`--seconds N`, `--rounds N`,
// `--idle-conns N`; `--micro` runs only the micro-benchmarks; `--cells ids` and `--targets names` narrow
// a run to some cells and targets, `--cells idle` to the idle-memory measurement). Needs `npm run build`
// first.
// First, before any module that compiles WebAssembly is evaluated.
import './eager-wasm.js';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startPostgres } from '../test/harness/postgres.js';
import { type BulkSample, runBulk } from './bulk.js';
import { assertNever, CELLS, type Cell, runsOn, warmups } from './cells.js';
import { processTreeTicks, TICKS_PER_SECOND } from './cpu.js';
import { measureIdleRss } from './idle.js';
import { createPeopleTables, PEOPLE_ROWS, peakRssDuring } from './mask.js';
import { runMicro } from './micro/run-micro.js';
import { initPgbench, runningPgbench, runPgbench } from './pgbench.js';
import { buildBenchPolicy } from './policy.js';
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
import { cpuTimes, settle, stealShare } from './settle.js';
import { type BenchContext, type RunningTarget, TARGETS, upstreamEndpoint } from './targets.js';

const DATABASE = 'bench';
const SCALE = 10; // 1,000,000 pgbench_accounts rows: also the bulk-read table
/** Seconds of warm-up per workload and protocol a target is measured with. */
const WARMUP_SECONDS = 6;

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    'idle-conns': { type: 'string' },
    micro: { type: 'boolean', default: false },
    cells: { type: 'string' },
    targets: { type: 'string' },
  },
});
/** `--cells a,b` / `--targets x,y`: a focused run over those cell ids / target names only. */
const only = (list: string | undefined): ((name: string) => boolean) => {
  if (list === undefined) return () => true;
  const names = new Set(list.split(',').map((n) => n.trim()));
  return (name) => names.has(name);
};
const cellWanted = only(argv.cells);
const targetWanted = only(argv.targets);
const quick = argv.quick ?? false;
const seconds = intArg(argv.seconds, 3);
// --quick runs 4 rounds by default so that it, with every headline key, stays near 5-6 minutes.
const rounds = intArg(argv.rounds, quick ? 4 : 5);
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
  log('building the bench policy with the pinned OPA...');
  const policy = await buildBenchPolicy(DATABASE);
  await own(async () => {
    await policy[Symbol.asyncDispose]();
  });
  const microRun = () =>
    runMicro({ root, bundleDir: policy.bundleDir, database: DATABASE, tmpDir, quick, log });
  if (argv.micro) {
    const figures = await microRun();
    await cleanup();
    for (const [key, value] of Object.entries(figures)) process.stdout.write(`${key} = ${value}\n`);
    if (argv.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
    return;
  }

  log(`starting PostgreSQL (TLS off) and loading pgbench scale ${SCALE}...`);
  const pg = await startPostgres({ tls: false, maxConnections: 600 });
  await own(async () => {
    await pg[Symbol.asyncDispose]();
  });
  await pg.psql(`CREATE DATABASE ${DATABASE} OWNER ${pg.scramUser};`, 'postgres');
  const ctx: BenchContext = { pg, database: DATABASE, tmpDir, root, bundleDir: policy.bundleDir };
  await initPgbench(upstreamEndpoint(ctx), SCALE);
  log(`creating the masking tables (2 x ${PEOPLE_ROWS} rows)...`);
  await createPeopleTables(upstreamEndpoint(ctx));
  await pg.psql('CHECKPOINT;', DATABASE);

  const cells = CELLS.filter((c) => (!quick || c.quick) && cellWanted(c.id));
  const specs = TARGETS.filter(
    (t) =>
      (!quick || t.quick) && targetWanted(t.name) && cells.some((c) => runsOn(c, t.name, quick)),
  );
  const targets: RunningTarget[] = [];
  for (const spec of specs) {
    const target = await spec.start(ctx);
    await own(() => target.stop());
    targets.push(target);
    log(`target ${spec.name} on port ${target.endpoint.port}`);
  }
  for (const t of targets) {
    // Warms pgward's JIT, PgBouncer's pool and the buffer cache before anything is recorded: every
    // workload and protocol the target is measured with (a fresh policy gateway needs several
    // seconds of a protocol before its CPU per transaction settles).
    for (const { workload, mode } of warmups(cells, t.name, quick)) {
      checkInterrupt();
      await runPgbench(t.endpoint, { workload, mode, clients: 8, seconds: WARMUP_SECONDS });
    }
  }

  const results = new Results();
  // Other work on the machine shows up here; our own load at 32 clients is about 2-4 on its own.
  const loads: number[] = [];
  // CPU time the hypervisor gave to other guests during each measurement (a shared virtual machine).
  const steals: number[] = [];
  const on = (cell: Cell) => targets.filter((t) => runsOn(cell, t.name, quick));
  const total = rounds * cells.reduce((n, cell) => n + on(cell).length, 0);
  let done = 0;
  let settleMs = 0;
  let unsettled = 0;
  for (let round = 0; round < rounds; round++) {
    for (const [index, cell] of cells.entries()) {
      // Rotating the order per cell and round spreads drift and warm-up effects over all targets.
      for (const t of rotate(on(cell), round + index)) {
        checkInterrupt();
        const entry = results.at(cell.id, t.name);
        // What the previous target left running (the audit store's last batch, autovacuum) ends first.
        const settled = await settle();
        settleMs += settled.waitedMs;
        if (!settled.quiet) {
          unsettled++;
          log(`machine still ${Math.round((settled.busy ?? 0) * 100)}% busy; measuring anyway`);
        }
        loads.push(loadavg()[0] ?? 0);
        try {
          const before = await cpuTimes();
          const sample = await measure(cell, t);
          const after = await cpuTimes();
          const steal = before === null || after === null ? null : stealShare(before, after);
          if (steal !== null) steals.push(steal);
          entry.samples.push(sample);
          entry.rounds.push(round);
          const stolen = steal === null ? '' : `, steal ${Math.round(steal * 100)}%`;
          log(
            `[${++done}/${total}] round ${round + 1} ${cell.id} ${t.name}: ${describe(sample)}${stolen}`,
          );
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

  // A focused run (--cells/--targets) measures only what it names; `--cells idle` names the idle memory.
  const focused = argv.cells !== undefined || argv.targets !== undefined;
  const idleWanted = !focused || (argv.cells !== undefined && cellWanted('idle'));
  if (idleWanted)
    log(`idle memory: ${idleConns} connections through a fresh pgward, ${rounds} rounds...`);
  const idle = [];
  for (let round = 0; round < (idleWanted ? rounds : 0); round++) {
    checkInterrupt();
    const sample = await measureIdleRss(ctx, idleConns);
    idle.push(sample);
    log(
      `idle round ${round + 1}: base ${sample.baseKb} kB, ${sample.perConnKb.toFixed(1)} kB per connection`,
    );
  }

  checkInterrupt();
  // The targets sit idle from here; the micro-benchmarks have the machine to themselves.
  const micro = focused ? {} : await microRun();

  await cleanup();
  const names = targets.map((t) => t.name);
  const figures: Figures = { ...flatten(cells, names, results), ...micro };
  figures.idle_rss_kb_per_conn = roundTo(median(idle.map((s) => s.perConnKb)), 1);
  figures.idle_rss_kb_base = roundTo(median(idle.map((s) => s.baseKb)), 0);
  const headlines: Figures = {};
  for (const h of HEADLINES) headlines[h.key] = h.compute(figures, results);
  const meta: Figures = {
    bench_policy_grants: policy.grants,
    bench_policy_guardrails: policy.enforcedGuardrails,
    bench_quick: quick ? 1 : 0,
    bench_rounds: rounds,
    // How a headline comparing two targets is formed (see bench/report.ts).
    bench_pairing: 'median over rounds of same-round ratios and differences',
    bench_seconds: seconds,
    bench_cpus: availableParallelism(),
    bench_idle_conns: idleConns,
    ...noise(cells, names, results),
    bench_loadavg_1m_median: roundTo(median(loads), 2),
    bench_loadavg_1m_max: roundTo(loads.length > 0 ? Math.max(...loads) : null, 2),
    bench_steal_pct_median: roundTo(steals.length > 0 ? (median(steals) ?? 0) * 100 : null, 1),
    bench_steal_pct_max: roundTo(steals.length > 0 ? Math.max(...steals) * 100 : null, 1),
    bench_settle_s: roundTo(settleMs / 1000, 1),
    bench_unsettled_cells: unsettled,
    bench_wall_s: Math.round((performance.now() - t0) / 1000),
  };

  const print = (line: string) => process.stdout.write(`${line}\n`);
  print(`pgward benchmark (${quick ? 'quick' : 'full'}): median of ${rounds} interleaved rounds`);
  print('lat ms = mean latency = clients / TPS; spread = (max - min) / median over the rounds;');
  print('x<target> = this row / that target (TPS or rows/s).');
  print('steal = CPU time given to other guests while a run was measured (see the log).');
  print(renderTable(cells, specs, results, seconds));
  print('');
  for (const [key, value] of Object.entries({ ...headlines, ...meta })) print(`${key} = ${value}`);
  if (argv.json) print(JSON.stringify({ ...headlines, ...figures, ...meta }));
}

function measure(cell: Cell, t: RunningTarget): Promise<Sample> {
  switch (cell.kind) {
    case 'pgbench':
      return measurePgbench(cell, t);
    case 'bulk':
      return measureBulk(cell, t).then((s) => {
        const people = cell.bulk === 'masked' || cell.bulk === 'unmasked';
        if (s.rows !== (people ? PEOPLE_ROWS : SCALE * 100_000))
          log(`warning: ${t.name} returned ${s.rows} rows`);
        return s;
      });
    default:
      return assertNever(cell);
  }
}

/**
 * A pgbench run; where the target is a process of its own, with that process tree's CPU time per
 * transaction (the clients' logins included, as they happen inside the run).
 */
async function measurePgbench(cell: Cell & { kind: 'pgbench' }, t: RunningTarget) {
  const before = t.pid === null ? null : await processTreeTicks(t.pid);
  const sample = await runPgbench(t.endpoint, { ...cell, seconds });
  const after = t.pid === null ? null : await processTreeTicks(t.pid);
  if (before === null || after === null) return sample;
  const cpuUsPerTx = ((after - before) * 1e6) / TICKS_PER_SECOND / sample.transactions;
  return { ...sample, cpuUsPerTx };
}

/** A bulk read; where the cell asks for it and the target is a process, with its peak RSS growth. */
async function measureBulk(cell: Cell & { kind: 'bulk' }, t: RunningTarget): Promise<BulkSample> {
  if (!cell.rss || t.pid === null) return runBulk(t.endpoint, cell.bulk);
  const { value, growthKb } = await peakRssDuring(t.pid, () => runBulk(t.endpoint, cell.bulk));
  return growthKb === null ? value : { ...value, rssGrowthKb: growthKb };
}

function describe(s: Sample): string {
  if ('tps' in s) {
    const failed = s.failed > 0 ? ` (${s.failed} failed tx)` : '';
    const cpu = s.cpuUsPerTx === undefined ? '' : `, ${s.cpuUsPerTx.toFixed(1)} us CPU/tx`;
    return `${s.tps.toFixed(1)} tps, ${s.latencyMs.toFixed(3)} ms${cpu}${failed}`;
  }
  const peak = s.rssGrowthKb === undefined ? '' : `, peak +${(s.rssGrowthKb / 1024).toFixed(1)} MB`;
  return `${Math.round(s.rowsPerSec)} rows/s, ${s.mbPerSec.toFixed(1)} MB/s, ${s.seconds.toFixed(2)} s${peak}`;
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
