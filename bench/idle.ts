// Memory per idle session: a fresh pgward process, warmed up, then N logged-in idle client connections;
// the growth of its resident set (VmRSS from /proc) divided by N.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BenchContext, startPgward } from './targets.js';
import { WireClient } from './wire-client.js';

export interface IdleSample {
  readonly baseKb: number;
  readonly perConnKb: number;
}

const WARMUP_CONNECTIONS = 10;
const OPEN_BATCH = 20;
/** Lets the allocator and the garbage collector settle after a burst; a benchmark, not a test. */
const SETTLE_MS = 1_000;

export async function measureIdleRss(ctx: BenchContext, connections: number): Promise<IdleSample> {
  const target = await startPgward(ctx, 'pgward_idle', 1);
  const clients: WireClient[] = [];
  try {
    const pid = target.pid;
    if (pid === null) throw new Error('pgward has no pid');
    for (let i = 0; i < WARMUP_CONNECTIONS; i++) {
      const c = await WireClient.connect(target.endpoint);
      await c.query('SELECT 1');
      c.close();
    }
    await sleep(SETTLE_MS);
    const baseKb = await rssKb(pid);
    while (clients.length < connections) {
      const n = Math.min(OPEN_BATCH, connections - clients.length);
      const batch = Array.from({ length: n }, () => WireClient.connect(target.endpoint));
      clients.push(...(await Promise.all(batch)));
    }
    await sleep(SETTLE_MS);
    const loadedKb = await rssKb(pid);
    return { baseKb, perConnKb: (loadedKb - baseKb) / connections };
  } finally {
    for (const c of clients) c.close();
    await target.stop();
  }
}

export async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb);
}
