// `pgward audit verify` against a real chDB store: an intact session, then one record modified in the
// store itself (detected by seq), an unknown session, and usage errors. Plus the pure parts of replay
// and policy impact: which statements may be re-run, request grouping, outcomes and --since.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatementRecord } from '../audit/record.js';
import { createChdbSink } from '../audit/sinks/chdb.js';
import { rowsOf, sealedRecords } from '../audit/testing/records.js';
import { auditCommand } from './audit-commands.js';
import { groupRequests, parseSince, recordedOutcome } from './audit-impact.js';
import { replaySkipReason } from './audit-replay.js';

let dir: string;
const records = sealedRecords('s_verify', 5, Date.now() - 60_000);

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}
const verify = async (...args: string[]) => {
  const r = io();
  const code = await auditCommand(['verify', ...args, '--chdb-path', dir], {}, r.io);
  return { code, out: r.out.join(''), err: r.err.join('') };
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pgward-cli-verify-'));
  const sink = createChdbSink({ path: dir, database: 'pgward', retentionDays: 365 });
  await sink.migrate();
  await sink.insert('b1', rowsOf({ statements: records }));
  await sink.close();
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('pgward audit verify', () => {
  it('reports an intact chain with exit 0', async () => {
    const r = await verify('s_verify');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('s_verify: 5 statement records');
    expect(r.out).toContain('chain intact');
  });

  it('detects a record modified inside the store and names its seq', async () => {
    const sink = createChdbSink({ path: dir, database: 'pgward', retentionDays: 365 });
    await sink.command(
      "ALTER TABLE {db:Identifier}.statements UPDATE rows = 999 WHERE session_id = 's_verify' AND seq = 3 SETTINGS mutations_sync = 2",
    );
    await sink.close();
    const r = await verify('s_verify');
    expect(r.code).toBe(1);
    expect(r.out).toContain('seq 3: changed: fields do not match its hash');
    const json = io();
    expect(
      await auditCommand(['verify', 's_verify', '--chdb-path', dir, '--json'], {}, json.io),
    ).toBe(1);
    expect(JSON.parse(json.out.join(''))).toMatchObject({
      ok: false,
      found: true,
      problems: [{ kind: 'changed', seq: 3 }],
    });
  });

  it('exits 1 for an unknown session and 2 for bad usage', async () => {
    expect(await verify('s_nope')).toMatchObject({ code: 1 });
    expect((await verify()).code).toBe(2);
    const r = io();
    expect(
      await auditCommand(['verify', 's', '--chdb-path', path.join(dir, 'absent')], {}, r.io),
    ).toBe(2);
    expect(r.err.join('')).toContain('no audit store at');
    expect(await auditCommand(['check'], {}, r.io)).toBe(2);
    expect(await auditCommand(['verify', 's', '--bogus'], {}, r.io)).toBe(2);
    expect(await auditCommand(['verify', 's'], {}, r.io)).toBe(2);
  });
});

const base = records[0]!;
const rec = (over: Partial<StatementRecord>): StatementRecord => ({ ...base, ...over });

describe('replay eligibility', () => {
  it('re-runs only allowed, completed, literal-free SELECTs without writes or flags', () => {
    const ok = rec({ statement: 'select id from orders', facts: { writes: [], flags: [] } });
    expect(replaySkipReason(ok)).toBeNull();
    expect(replaySkipReason(rec({ ...ok, outcome: 'masked' }))).toBeNull();
    expect(replaySkipReason(rec({ ...ok, outcome: 'blocked' }))).toMatch(/outcome blocked/);
    expect(replaySkipReason(rec({ ...ok, sqlstate: '57014', rows: null }))).toMatch(/57014/);
    expect(replaySkipReason(rec({ ...ok, command: 'UPDATE' }))).toMatch(/not a read-only/);
    expect(replaySkipReason(rec({ ...ok, facts: { writes: [{}], flags: [] } }))).toBe('it writes');
    expect(replaySkipReason(rec({ ...ok, facts: { writes: [], flags: ['ddl'] } }))).toMatch(/ddl/);
    expect(replaySkipReason(rec({ ...ok, statement: 'select 1 where id = $1' }))).toMatch(
      /placeholders \(normalized: literals were not recorded\)/,
    );
  });
});

describe('policy impact helpers', () => {
  it('groups the statements of one request and keeps requests apart', () => {
    const ts = '2026-05-01T00:00:00.000Z';
    const a = [0, 1, 2].map((i) =>
      rec({ session_id: 'a', seq: i + 1, ts, statement_index: i, statement_count: 3 }),
    );
    const b = rec({ session_id: 'a', seq: 4, ts, statement_index: 0, statement_count: 1 });
    const c = rec({ session_id: 'b', seq: 1, ts, statement_index: 0, statement_count: 1 });
    expect(
      groupRequests([c, b, a[2]!, a[0]!, a[1]!]).map((g) =>
        g.map((r) => `${r.session_id}${r.seq}`),
      ),
    ).toEqual([['a1', 'a2', 'a3'], ['a4'], ['b1']]);
  });

  it('reads an error record as the policy outcome it had, and --since as a duration or time', () => {
    expect(recordedOutcome(rec({ outcome: 'error', masked_columns: [] }))).toBe('allowed');
    expect(recordedOutcome(rec({ outcome: 'error', masked_columns: ['p.t.c'] }))).toBe('masked');
    expect(recordedOutcome(rec({ outcome: 'approval_required' }))).toBe('approval_required');
    const now = Date.parse('2026-05-08T00:00:00Z');
    expect(parseSince('7d', now)).toBe('2026-05-01T00:00:00.000Z');
    expect(parseSince('90m', now)).toBe('2026-05-07T22:30:00.000Z');
    expect(parseSince('2026-05-02T00:00:00Z', now)).toBe('2026-05-02T00:00:00.000Z');
    expect(() => parseSince('a week', now)).toThrow(/neither/);
  });
});
