// openAudit from the config section: embedded chDB under the config directory, migrations applied, a
// written record stored on close, and the spool per worker.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAudit } from './open-audit.js';
import { listStatements } from './queries.js';
import { sealedRecords, statementEntry } from './testing/records.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pgward-open-audit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const config = {
  enabled: true,
  chdb_path: 'data/audit',
  database: 'pgward',
  retention_days: 365,
  batch_size: 1000,
  flush_ms: 200,
  queue_max: 100_000,
  spool_dir: 'data/spool',
  spool_max_bytes: 1 << 30,
  fail_closed: false,
  statement_text: 'normalized',
} as const;

describe('openAudit', () => {
  it('opens chDB relative to the config directory and stores what the writer was given', async () => {
    const log = { info() {}, warn() {}, error() {} };
    const [record] = sealedRecords('s_open', 1);
    {
      await using audit = await openAudit({
        config,
        configDir: dir,
        secret: () => Buffer.alloc(0),
        log,
        workerIndex: 2,
      });
      expect(audit.sink.kind).toBe('chdb');
      audit.writer.write(statementEntry(record!));
      await audit.writer.flush();
      expect((await listStatements(audit.sink)).items).toEqual([record]);
    }
    expect(await readdir(path.join(dir, 'data'))).toEqual(['audit', 'spool']);
    expect(await readdir(path.join(dir, 'data/spool'))).toEqual(['worker-2']);
  });
});
