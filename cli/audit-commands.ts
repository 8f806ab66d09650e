// `pgward audit verify <session-id>`: checks one stored session's hash chain (audit/verify.ts) and names
// every problem by seq. `pgward replay` and `pgward policy impact` live in their own files.

import { parseArgs } from 'node:util';
import { verifySession } from '../audit/verify.js';
import { type CommandIo, openStore, STORE_OPTIONS, STORE_USAGE, stdio } from './audit-store.js';

export { POLICY_IMPACT_USAGE, policyImpactCommand } from './audit-impact.js';
export { REPLAY_USAGE, replayCommand } from './audit-replay.js';

export const AUDIT_USAGE = `usage: pgward audit verify <session-id> [store] [--json]
  Verifies the session's hash chain: exit 0 intact, 1 tampered or absent.
${STORE_USAGE}
`;

/** `pgward audit <subcommand>`; only `verify` so far. */
export async function auditCommand(
  args: string[],
  env: NodeJS.ProcessEnv,
  io: CommandIo = stdio,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'verify') {
    io.err(`pgward audit: unknown subcommand "${sub ?? ''}"\n${AUDIT_USAGE}`);
    return 2;
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(rest);
  } catch (err) {
    io.err(`pgward audit verify: ${(err as Error).message}\n${AUDIT_USAGE}`);
    return 2;
  }
  const sessionId = parsed.positionals[0];
  if (sessionId === undefined || parsed.positionals.length > 1) {
    io.err(`pgward audit verify: one session id is required\n${AUDIT_USAGE}`);
    return 2;
  }
  const store = openStore(parsed.values, env);
  if (!store.ok) {
    io.err(`pgward audit verify: ${store.message}\n`);
    return 2;
  }
  try {
    const report = await verifySession(store.sink, sessionId);
    const found = report.records > 0 || report.closed;
    if (parsed.values.json === true) io.out(`${JSON.stringify({ ...report, found }, null, 2)}\n`);
    else if (!found)
      io.out(`session ${sessionId}: not found in the audit trail (${store.where})\n`);
    else {
      const state = report.closed ? 'closed' : 'not closed (the tail cannot be checked)';
      io.out(
        `session ${sessionId}: ${report.records} statement records, ${state}: ${
          report.ok ? 'chain intact' : `${report.problems.length} problem(s)`
        }\n`,
      );
      for (const p of report.problems) io.out(`  seq ${p.seq}: ${p.kind}: ${p.detail}\n`);
    }
    return found && report.ok ? 0 : 1;
  } catch (err) {
    io.err(`pgward audit verify: the audit store cannot be read: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await store.sink.close();
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: { ...STORE_OPTIONS, json: { type: 'boolean' } },
    allowPositionals: true,
  });
}
