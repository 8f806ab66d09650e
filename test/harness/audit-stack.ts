// A gateway with a real policy bundle whose audit records go through the real observer, writer and an
// embedded chDB store in a temp dir: what the auditor API, replay and policy impact tests read back.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AuditSink } from '../../audit/sink.js';
import { createChdbSink } from '../../audit/sinks/chdb.js';
import { type AuditWriter, createAuditWriter } from '../../audit/writer.js';
import { silentLogger } from '../../lib/log.js';
import { type AuditObserver, createAuditObserver } from '../../proxy/audit-observer.js';
import { startGateway, type TestGateway } from './gateway.js';
import { createTestPolicy, type PolicyRepoOptions, type TestPolicy } from './policy.js';
import type { PgInfo } from './postgres.js';

export interface AuditStack extends AsyncDisposable {
  readonly root: string;
  /** The chDB data directory (what `--chdb-path` names). */
  readonly chdbPath: string;
  readonly policy: TestPolicy;
  readonly gw: TestGateway;
  readonly sink: AuditSink;
  readonly observer: AuditObserver;
  /** Waits until every session has closed and its records are in the store. */
  settle(): Promise<void>;
  /** Stops the gateway and closes the store (chDB allows one open data directory per process). */
  closeStore(): Promise<void>;
}

export async function startAuditStack(
  pg: PgInfo,
  policyOptions: PolicyRepoOptions,
  options: { readonly statementText?: 'normalized' | 'raw' } = {},
): Promise<AuditStack> {
  const root = await mkdtemp(path.join(tmpdir(), 'pgward-audit-stack-'));
  const chdbPath = path.join(root, 'chdb');
  const policy = await createTestPolicy(policyOptions);
  const sink = createChdbSink({ path: chdbPath, database: 'pgward', retentionDays: 365 });
  await sink.migrate();
  const writer: AuditWriter = createAuditWriter({
    sink,
    spoolDir: path.join(root, 'spool'),
    batchSize: 100,
    flushMs: 20,
    queueMax: 10_000,
    spoolMaxBytes: 1 << 30,
    failClosed: false,
    log: silentLogger,
  });
  const observer = createAuditObserver({
    writer,
    statementText: options.statementText ?? 'normalized',
    log: silentLogger,
  });
  const gw = await startGateway(pg, {
    config: { policy: { bundle_dir: policy.bundleDir } },
    observer,
  });
  let storeOpen = true;
  const settle = async () => {
    // Sessions close asynchronously after the client's Terminate; poll the counts, bounded.
    const open = () => observer.openSessions + gw.gateway.sessionCount;
    for (let i = 0; i < 1000 && open() > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    if (open() > 0) throw new Error(`${open()} sessions still open after 10 s`);
    await writer.flush();
  };
  const closeStore = async () => {
    if (!storeOpen) return;
    storeOpen = false;
    await gw[Symbol.asyncDispose]();
    await writer.close();
    await sink.close();
  };
  return {
    root,
    chdbPath,
    policy,
    gw,
    sink,
    observer,
    settle,
    closeStore,
    async [Symbol.asyncDispose]() {
      await closeStore();
      await policy[Symbol.asyncDispose]();
      await rm(root, { recursive: true, force: true });
    },
  };
}
