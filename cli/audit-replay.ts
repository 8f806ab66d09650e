// `pgward replay <session-id>`: prints a session's timeline from the audit trail; with --execute --to
// <connection string> re-runs its allowed read-only statements against another database (each in a
// READ ONLY transaction that is rolled back) and reports where the row counts differ.

import { parseArgs } from 'node:util';
import { sessionTimeline } from '../audit/queries.js';
import type { StatementRecord } from '../audit/record.js';
import type { AuditSink } from '../audit/sink.js';
import { verifySession } from '../audit/verify.js';
import { openReadOnlyRunner, type ReadOnlyRunner, targetFromUrl } from './audit-pg.js';
import { type CommandIo, openStore, STORE_OPTIONS, STORE_USAGE, stdio } from './audit-store.js';

export const REPLAY_USAGE = `usage: pgward replay <session-id> [store] [--execute --to <postgres url>] [--timeout-ms <n>]
  Prints the session's timeline. --execute re-runs its allowed read-only statements (SELECT, no
  writes, no flags) against --to in READ ONLY transactions that are rolled back, and compares row
  counts: exit 0 all equal, 1 a difference or failure. Normalized text with $n placeholders cannot
  be re-run (record statement_text: raw for that). The password may come from $PGPASSWORD.
${STORE_USAGE}
`;

/** Why a statement is not re-run, or null when it is eligible. */
export function replaySkipReason(r: StatementRecord): string | null {
  if (r.outcome !== 'allowed' && r.outcome !== 'masked')
    return `outcome ${r.outcome}: only allowed statements are re-run`;
  if (!r.executed || r.sqlstate !== null || r.rows === null)
    return `it did not complete (SQLSTATE ${r.sqlstate ?? 'none'})`;
  if (r.command !== 'SELECT') return `${r.command} is not a read-only SELECT`;
  const facts = r.facts as { writes?: unknown[]; flags?: unknown[] } | null;
  if (facts === null) return 'it was not judged (no recorded facts)';
  if ((facts.writes ?? []).length > 0) return 'it writes';
  if ((facts.flags ?? []).length > 0) return `it is flagged (${(facts.flags ?? []).join(', ')})`;
  if (/\$\d+/.test(r.statement))
    return `its text has placeholders (${r.statement_form}${
      r.statement_form === 'normalized' ? ': literals were not recorded' : ': bound parameters'
    }), so it cannot be re-run`;
  return null;
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);

function header(io: CommandIo, id: string, t: Awaited<ReturnType<typeof sessionTimeline>>) {
  const s = t.session;
  if (s === null) io.out(`session ${id}: no session records (statements only)\n`);
  else
    io.out(
      `session ${id}\n  identity ${s.identity_sub} [${s.identity_groups.join(', ')}] via ${s.identity_via} (${s.identity_issuer})\n  database ${s.database}  client ${s.client_addr} ${s.application_name}\n  opened ${s.opened_at}  ${
        s.closed_at === null ? 'still open' : `closed ${s.closed_at} (${s.reason ?? 'ended'})`
      }\n`,
    );
  io.out(
    `  ${pad('seq', 5)} ${pad('at', 10)} ${pad('outcome', 18)} ${pad('command', 9)} ${pad('rows', 7)} ${pad('ms', 9)} statement\n`,
  );
}

function line(io: CommandIo, r: StatementRecord, startMs: number) {
  const at = `+${((Date.parse(r.ts) - startMs) / 1000).toFixed(3)}`;
  const rules = r.rule_ids.length > 0 ? `  [${r.rule_ids.join(', ')}]` : '';
  const mask = r.masked_columns.length > 0 ? `  {masked ${r.masked_columns.join(', ')}}` : '';
  io.out(
    `  ${pad(r.seq, 5)} ${pad(at, 10)} ${pad(r.outcome, 18)} ${pad(r.command, 9)} ${pad(r.rows ?? '-', 7)} ${pad(r.duration_ms.toFixed(2), 9)} ${r.statement.replace(/\s+/g, ' ')}${rules}${mask}\n`,
  );
}

interface Tally {
  equal: number;
  differ: number;
  failed: number;
  skipped: number;
}

async function reRun(io: CommandIo, runner: ReadOnlyRunner, r: StatementRecord, tally: Tally) {
  const why = replaySkipReason(r);
  if (why !== null) {
    tally.skipped += 1;
    io.out(`  seq ${r.seq}: skipped: ${why}\n`);
    return;
  }
  const result = await runner.count(r.statement);
  if (!result.ok) {
    tally.failed += 1;
    io.out(`  seq ${r.seq}: failed: ${result.error}\n`);
  } else if (result.rows === r.rows) {
    tally.equal += 1;
    io.out(`  seq ${r.seq}: rows ${r.rows} → ${result.rows}: equal\n`);
  } else {
    tally.differ += 1;
    io.out(`  seq ${r.seq}: rows ${r.rows} → ${result.rows}: DIFFERENT\n`);
  }
}

export async function replayCommand(
  args: string[],
  env: NodeJS.ProcessEnv,
  io: CommandIo = stdio,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    io.err(`pgward replay: ${(err as Error).message}\n${REPLAY_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const sessionId = positionals[0];
  if (sessionId === undefined || positionals.length > 1) {
    io.err(`pgward replay: one session id is required\n${REPLAY_USAGE}`);
    return 2;
  }
  if ((values.execute === true) !== (values.to !== undefined)) {
    io.err(`pgward replay: --execute and --to go together\n${REPLAY_USAGE}`);
    return 2;
  }
  const timeoutMs = Number(values['timeout-ms'] ?? 30_000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 3_600_000) {
    io.err('pgward replay: --timeout-ms must be an integer from 1 to 3600000\n');
    return 2;
  }
  const store = openStore(values, env);
  if (!store.ok) {
    io.err(`pgward replay: ${store.message}\n`);
    return 2;
  }
  try {
    return await replay(io, store.sink, sessionId, values.to, env, timeoutMs);
  } catch (err) {
    io.err(`pgward replay: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await store.sink.close();
  }
}

/** Every statement of the session in seq order, a page at a time (a long session is never all in memory). */
async function forEachStatement(
  sink: AuditSink,
  sessionId: string,
  fn: (r: StatementRecord) => Promise<void> | void,
): Promise<void> {
  let afterSeq = 0;
  for (;;) {
    const page = await sessionTimeline(sink, sessionId, { afterSeq });
    for (const r of page.statements) await fn(r);
    if (page.next === null) return;
    afterSeq = Number(page.next);
  }
}

async function replay(
  io: CommandIo,
  sink: AuditSink,
  sessionId: string,
  to: string | undefined,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<number> {
  const first = await sessionTimeline(sink, sessionId, { limit: 1 });
  if (first.session === null && first.statements.length === 0) {
    io.err(`pgward replay: no session ${sessionId} in the audit trail\n`);
    return 1;
  }
  header(io, sessionId, first);
  const startMs = Date.parse(first.statements[0]?.ts ?? first.session?.opened_at ?? '0');
  await forEachStatement(sink, sessionId, (r) => line(io, r, startMs));
  if (to === undefined) return 0;

  // SECURITY: statements from a store that fails verification are not executed anywhere.
  const report = await verifySession(sink, sessionId);
  if (!report.ok) {
    io.err(
      `pgward replay: the session's hash chain does not verify (${report.problems.length} problem(s)); nothing is executed: run pgward audit verify ${sessionId}\n`,
    );
    return 1;
  }
  const target = targetFromUrl(to, env);
  io.out(
    `\nre-running against ${target.host}:${target.port}/${target.database} as ${target.user} (read only, rolled back):\n`,
  );
  const runner = await openReadOnlyRunner(target, { timeoutMs });
  const tally: Tally = { equal: 0, differ: 0, failed: 0, skipped: 0 };
  try {
    await forEachStatement(sink, sessionId, (r) => reRun(io, runner, r, tally));
  } finally {
    runner.close();
  }
  io.out(
    `${tally.equal + tally.differ + tally.failed} re-run: ${tally.equal} equal, ${tally.differ} different, ${tally.failed} failed; ${tally.skipped} skipped\n`,
  );
  return tally.differ + tally.failed === 0 ? 0 : 1;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      ...STORE_OPTIONS,
      execute: { type: 'boolean' },
      to: { type: 'string' },
      'timeout-ms': { type: 'string' },
    },
    allowPositionals: true,
  });
}
