// Micro-benchmark of the statement gate's whole work for one pgbench -S transaction, in process: the
// messages a session hands the gate (simple: Query; extended: Parse, Bind, Describe, Execute, Sync) and
// the answers it reads (ParseComplete, BindComplete, RowDescription, CommandComplete, ReadyForQuery),
// through the real analyzer and judge over the bench bundle with the caches at their config defaults.
// No sockets: what policy mode adds to a relay's CPU per transaction, apart from the network's share.
// Every transaction carries a new account id. µs per transaction: the median of the rounds. Bytes of
// JavaScript heap allocated per transaction: V8's sampling heap profiler over a further run, counting
// objects the garbage collector has already freed (every allocation, not what stays alive).
import { Session } from 'node:inspector';
import { silentLogger } from '../../lib/log.js';
import { createAnalyzer } from '../../proxy/analyzer/analyzer.js';
import { createJudge, type JudgeContext } from '../../proxy/decider/judge.js';
import { StatementGate } from '../../proxy/session/gate.js';
import type { Figures } from '../report.js';
import { BENCH_IDENTITY, type BundleMicroOptions, loadBenchPolicy } from './decide.js';

export interface GateMicroOptions extends BundleMicroOptions {
  /** Timed transactions per protocol and round. */
  readonly transactions: number;
}

const ROUNDS = 7;
const WARMUP_TRANSACTIONS = 50_000;
/** Distinct account ids cycled through (their messages are built before timing). */
const VARIANTS = 4096;
const SQL = 'SELECT abalance FROM pgbench_accounts WHERE aid = ';
/** Transactions of the allocation run, and the heap profiler's mean sampling interval in bytes. */
const HEAP_TRANSACTIONS = 20_000;
const HEAP_SAMPLING_BYTES = 64;

interface SamplingNode {
  readonly selfSize: number;
  readonly children: readonly SamplingNode[];
}

/** Bytes of heap `run` allocates, freed or not, as V8's sampling heap profiler estimates them. */
export async function heapBytesAllocated(run: () => void): Promise<number> {
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve, reject) =>
      session.post(method, params, (err, result) =>
        err === null ? resolve(result as T) : reject(err),
      ),
    );
  try {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', {
      samplingInterval: HEAP_SAMPLING_BYTES,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    run();
    const { profile } = await post<{ profile: { head: SamplingNode } }>(
      'HeapProfiler.stopSampling',
    );
    let bytes = 0;
    const pending = [profile.head];
    for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
      bytes += node.selfSize;
      pending.push(...node.children);
    }
    return bytes;
  } finally {
    session.disconnect();
  }
}

const cstr = (s: string) => Buffer.from(`${s}\0`);

/** The RowDescription body of pgbench -S's one int4 column. */
function rowDescription(): Buffer {
  const name = cstr('abalance');
  const field = Buffer.alloc(18);
  field.writeInt32BE(16_398, 0); // table OID
  field.writeInt16BE(3, 4); // attribute number
  field.writeInt32BE(23, 6); // int4
  field.writeInt16BE(4, 10);
  field.writeInt32BE(-1, 12);
  field.writeInt16BE(0, 16);
  return Buffer.concat([Buffer.from([0, 1]), name, field]);
}

/** A Bind body: unnamed portal and statement, one text parameter, default result format. */
function bind(value: string): Buffer {
  const v = Buffer.from(value);
  const head = Buffer.from([0, 0, 0, 0, 0, 1]);
  const len = Buffer.alloc(4);
  len.writeInt32BE(v.length, 0);
  return Buffer.concat([Buffer.from([0, 0]), head, len, v, Buffer.from([0, 0])]);
}

export async function runGateMicro(o: GateMicroOptions): Promise<Figures> {
  const { defaults, source } = await loadBenchPolicy(o);
  const policy = {
    analyzer: createAnalyzer({ cacheSize: defaults.analyzer_cache_size }),
    judge: createJudge({ source, now: Date.now, cacheSize: defaults.decision_cache_size }),
    filterFor: () => {
      throw new Error('the gate micro-benchmark masks nothing');
    },
    maxNamed: defaults.max_named_objects,
  };
  let context: JudgeContext | null = null;
  let statements = 0;
  let done = 0;
  const gate: StatementGate = new StatementGate(
    policy,
    silentLogger,
    ['public'],
    () => {
      // As the session builds it: a new context only when search_path changes.
      const searchPath = gate.searchPath;
      if (context?.searchPath !== searchPath) {
        context = {
          identity: BENCH_IDENTITY,
          sessionId: 's_bench_gate',
          database: o.database,
          applicationName: 'pgbench',
          clientAddr: '127.0.0.1',
          searchPath,
          inTransaction: false,
        };
      }
      return context;
    },
    () => void statements++,
  );
  gate.onDone = () => void done++;

  const description = rowDescription();
  const complete = cstr('SELECT 1');
  const ids = Array.from({ length: VARIANTS }, (_, i) => String(1 + ((i * 7919) % 1_000_000)));
  const queries = ids.map((id) => cstr(`${SQL}${id};`));
  const binds = ids.map(bind);
  const parse = Buffer.concat([cstr(''), cstr(`${SQL}$1`), Buffer.from([0, 0])]);
  const describePortal = cstr('P');
  const execute = Buffer.concat([cstr(''), Buffer.alloc(4)]);
  const sync = Buffer.alloc(0);

  const forward = (type: number, body: Buffer) => {
    const action = gate.onClientMessage(type, body);
    if (action.type !== 'Forward') throw new Error(`gate micro: message ${type} was not forwarded`);
  };
  const answer = () => {
    gate.onServerRowDescription(description, 0, description.length);
    gate.onServerCompletion(0x43, complete, 0, complete.length);
    gate.onReady(0x49);
  };
  const simple = (i: number) => {
    forward(0x51, queries[i % VARIANTS]!);
    answer();
  };
  const extended = (i: number) => {
    forward(0x50, parse);
    forward(0x42, binds[i % VARIANTS]!);
    forward(0x44, describePortal);
    forward(0x45, execute);
    forward(0x53, sync);
    gate.onServerAck(0x31);
    gate.onServerAck(0x32);
    answer();
  };
  const time = (tx: (i: number) => void, n: number): number => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) tx(i);
    return ((performance.now() - t0) * 1000) / n;
  };

  const f: Figures = {};
  for (const [name, tx] of [
    ['simple', simple],
    ['extended', extended],
  ] as const) {
    time(tx, WARMUP_TRANSACTIONS);
    const before = done;
    const rounds = Array.from({ length: ROUNDS }, () => time(tx, o.transactions)).sort(
      (a, b) => a - b,
    );
    // Every timed transaction was judged and completed: nothing was skipped or refused.
    if (done - before !== ROUNDS * o.transactions)
      throw new Error(
        `gate micro: ${done - before} transactions completed, not ${ROUNDS * o.transactions}`,
      );
    f[`gate_us_per_tx_${name}`] = Number(rounds[Math.floor(ROUNDS / 2)]!.toFixed(2));
    const bytes = await heapBytesAllocated(() => time(tx, HEAP_TRANSACTIONS));
    f[`gate_heap_bytes_per_tx_${name}`] = Math.round(bytes / HEAP_TRANSACTIONS);
  }
  f.gate_transactions = o.transactions * ROUNDS;
  if (statements < 2 * ROUNDS * o.transactions)
    throw new Error('gate micro: fewer statements were judged than transactions were timed');
  return f;
}
