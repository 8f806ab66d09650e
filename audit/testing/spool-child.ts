// Child processes for the SIGKILL test (chDB allows one data directory per process).
// `write`: writes one session's records without end through a writer whose chDB store starts failing
// after a few batches — half the failures after the rows were stored (an ambiguous insert), half before —
// and prints `durable <seq>` each time everything so far is in the store or the spool. The test kills it.
// `replay`: the restart: replays the spool into the store and prints what the store then holds as JSON.
// Usage: node --import tsx audit/testing/spool-child.ts write|replay <chdb dir> <spool dir>

import { createChainBook } from '../chain.js';
import { toStatementRecords } from '../map.js';
import { createChdbSink } from '../sinks/chdb.js';
import { verifySession } from '../verify.js';
import { createAuditWriter } from '../writer.js';
import { allowedSelect, observedSession, statementEntry } from './records.js';

const [mode, chdbPath, spoolDir] = process.argv.slice(2);
if (chdbPath === undefined || spoolDir === undefined || (mode !== 'write' && mode !== 'replay'))
  throw new Error('usage: write|replay <chdb dir> <spool dir>');

const CHILD_SESSION = 's_killed';
/** A runaway child (its test gone) stops by itself. */
const MAX_RECORDS = 200_000;
const GOOD_CALLS = 5;

const store = createChdbSink({ path: chdbPath, database: 'pgward', retentionDays: 365 });
await store.migrate();
const options = {
  spoolDir,
  batchSize: 40,
  flushMs: 5,
  queueMax: 10_000,
  spoolMaxBytes: 1 << 30,
  failClosed: false,
  log: { info() {}, warn() {}, error: (msg: string) => process.stderr.write(`${msg}\n`) },
  backoffMs: { min: 2, max: 20 },
};

if (mode === 'replay') {
  const writer = createAuditWriter({ ...options, sink: store });
  const spooled = writer.spooledBatches;
  for (let i = 0; i < 6000 && writer.spooledBatches > 0; i++)
    await new Promise((r) => setTimeout(r, 10));
  const left = writer.spooledBatches;
  await writer.close();
  const [row] = await store.select<Record<string, string>>(
    'SELECT count() AS n, uniqExact(seq) AS seqs, max(seq) AS top FROM {db:Identifier}.statements WHERE session_id = {sid:String}',
    { sid: CHILD_SESSION },
  );
  const report = await verifySession(store, CHILD_SESSION);
  await store.close();
  process.stdout.write(
    `${JSON.stringify({ spooled, left, n: Number(row?.n), seqs: Number(row?.seqs), top: Number(row?.top), problems: report.problems })}\n`,
  );
  process.exit(0);
}
let calls = 0;
const sink = {
  async insert(batchId: string, rows: Parameters<typeof store.insert>[1]) {
    calls += 1;
    if (calls <= GOOD_CALLS) return store.insert(batchId, rows);
    if (calls % 2 === 1) {
      await store.insert(batchId, rows);
      throw new Error('connection reset after the insert');
    }
    throw new Error('store unavailable');
  },
};
const writer = createAuditWriter({ ...options, sink });
const book = createChainBook();
const session = observedSession(CHILD_SESSION);
let seq = 0;
while (seq < MAX_RECORDS) {
  for (let i = 0; i < 25; i++) {
    const unsealed = toStatementRecords(session, allowedSelect(Date.now(), i), {
      statementText: 'normalized',
    });
    for (const record of book.seal(unsealed)) {
      writer.write(statementEntry(record));
      seq = record.seq;
    }
  }
  await writer.flush();
  process.stdout.write(`durable ${seq}\n`);
}
await writer.close();
await store.close();
