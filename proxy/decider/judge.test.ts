// The judge's cache around the policy engine: a decision is reused only where the policy input would be
// the same apart from the literals (identity, session, transaction state, bundle, statement shape and
// place), never after it expires or when it involved an approval; a cached verdict is the one a fresh
// evaluation folds to. Statements come from the real analyzer; the engine records what it was asked.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Decision, PolicyInput } from '../../policy/contracts.js';
import { type Analyzer, createAnalyzer, loadAnalyzer } from '../analyzer/analyzer.js';
import type { AnalyzedStatement } from '../analyzer/facts.js';
import { withEstimate } from '../analyzer/statement-facts.js';
import type { Identity } from '../auth/authenticator.js';
import { createJudge, inputJson, inputOf, type JudgeContext, type PolicyEngine } from './judge.js';

let analyzer: Analyzer;
beforeAll(async () => {
  await loadAnalyzer();
  analyzer = createAnalyzer();
});

const statements = (sql: string): AnalyzedStatement[] =>
  analyzer.analyze(sql, {
    searchPath: ['public'],
    prepared: () => undefined,
    cursors: () => undefined,
  }).statements;

const alice: Identity = {
  sub: 'alice',
  groups: ['analysts'],
  issuer: 'pgward:static',
  via: 'password',
  expiresAt: null,
};

const context = (over: Partial<JudgeContext> = {}): JudgeContext => ({
  identity: alice,
  sessionId: 's_1',
  database: 'app',
  applicationName: 'psql',
  clientAddr: '127.0.0.1',
  searchPath: ['public'],
  inTransaction: false,
  ...over,
});

/** An engine that allows reads of `orders` (masking its email), refuses the rest, and counts its calls. */
function engine(revision = 'rev-1', extra: Partial<Decision> = {}) {
  const inputs: PolicyInput[] = [];
  const evaluate = (input: PolicyInput): Decision => {
    inputs.push(input);
    const orders = input.statement.reads.every((r) => r.table === 'orders');
    return {
      allow: orders,
      outcome: orders ? 'masked' : 'blocked',
      reasons: orders
        ? [{ rule: 'shadow.note', message: 'noted', enforce: false }]
        : [{ rule: 'access.table', message: 'not granted', enforce: true }],
      approval: { required: false, id: null },
      mask: orders ? { 'public.orders.email': 'email' } : {},
      grant_ids: orders ? ['g1'] : [],
      limits: { max_rows: null, explain_max_rows: null },
      valid_until: null,
      ...extra,
    };
  };
  const e: PolicyEngine = { revision, evaluate };
  return { engine: e, inputs };
}

function judgeWith(e: PolicyEngine | null, cacheSize = 100, now = () => 1_700_000_000_000) {
  return createJudge({ source: { current: () => e }, now, cacheSize });
}

describe('judge decision cache', () => {
  it('reuses a decision for literal variants of a statement in the same session state', () => {
    const { engine: e, inputs } = engine();
    const judge = judgeWith(e);
    judge.judge(statements('SELECT email FROM orders WHERE id = 1'), context());
    judge.judge(statements('SELECT email FROM orders WHERE id = 2'), context());
    expect(inputs).toHaveLength(1);
  });

  it.each<[string, Partial<JudgeContext>]>([
    ['another subject', { identity: { ...alice, sub: 'bob' } }],
    ['other groups', { identity: { ...alice, groups: ['analysts', 'admins'] } }],
    ['another issuer', { identity: { ...alice, issuer: 'https://idp.example' } }],
    ['another way in', { identity: { ...alice, via: 'jwt' } }],
    ['another database', { database: 'other' }],
    ['another application', { applicationName: 'app' }],
    ['a transaction', { inTransaction: true }],
  ])('evaluates again for %s', (_name, change) => {
    const { engine: e, inputs } = engine();
    const judge = judgeWith(e);
    judge.judge(statements('SELECT email FROM orders WHERE id = 1'), context());
    judge.judge(statements('SELECT email FROM orders WHERE id = 2'), context(change));
    expect(inputs).toHaveLength(2);
    // And the first state still has its own entry.
    judge.judge(statements('SELECT email FROM orders WHERE id = 3'), context());
    expect(inputs).toHaveLength(2);
  });

  it('evaluates again for another bundle revision', () => {
    let serving = engine('rev-1');
    const judge = createJudge({
      source: { current: () => serving.engine },
      now: () => 0,
      cacheSize: 100,
    });
    judge.judge(statements('SELECT email FROM orders WHERE id = 1'), context());
    const first = serving.inputs;
    serving = engine('rev-2');
    const verdict = judge.judge(statements('SELECT email FROM orders WHERE id = 2'), context());
    expect(first).toHaveLength(1);
    expect(serving.inputs).toHaveLength(1);
    expect(verdict.revision).toBe('rev-2');
  });

  it('keeps statements apart by their place in the request', () => {
    const { engine: e, inputs } = engine();
    const judge = judgeWith(e);
    judge.judge(statements('SELECT email FROM orders WHERE id = 1'), context());
    judge.judge(
      statements('SELECT 1 FROM orders; SELECT email FROM orders WHERE id = 2'),
      context(),
    );
    expect(inputs.map((i) => [i.statement.index, i.statement.count])).toEqual([
      [0, 1],
      [0, 2],
      [1, 2],
    ]);
  });

  it('gives the verdict a fresh evaluation folds to, for one statement and for several', () => {
    const cached = judgeWith(engine().engine);
    const fresh = judgeWith(engine().engine, 0);
    for (const sql of [
      'SELECT email FROM orders WHERE id = 1',
      'SELECT secret FROM vault',
      'SELECT email FROM orders WHERE id = 1; SELECT secret FROM vault',
    ]) {
      for (let i = 0; i < 3; i++) {
        expect(cached.judge(statements(sql), context())).toEqual(
          fresh.judge(statements(sql), context()),
        );
      }
    }
    const denied = cached.judge(statements('SELECT secret FROM vault'), context());
    expect(denied).toMatchObject({ allow: false, denial: { rule: 'access.table' } });
    const masked = cached.judge(statements('SELECT email FROM orders WHERE id = 9'), context());
    expect(masked).toMatchObject({
      allow: true,
      outcome: 'masked',
      mask: { 'public.orders.email': 'email' },
      wouldBlock: [{ rule: 'shadow.note', message: 'noted' }],
    });
  });

  it('evaluates again once a decision is past its valid_until', () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const { engine: e, inputs } = engine('rev-1', { valid_until: '2030-01-01T00:00:10Z' });
    const judge = judgeWith(e, 100, () => now);
    judge.judge(statements('SELECT email FROM orders WHERE id = 1'), context());
    now += 9_999;
    judge.judge(statements('SELECT email FROM orders WHERE id = 2'), context());
    expect(inputs).toHaveLength(1);
    now += 1;
    judge.judge(statements('SELECT email FROM orders WHERE id = 3'), context());
    expect(inputs).toHaveLength(2);
  });

  it('reuses a decision taken with a row estimate only for the same shape and estimate', () => {
    const { engine: e, inputs } = engine();
    const judge = judgeWith(e);
    const estimated = (sql: string, rows: number): AnalyzedStatement[] =>
      statements(sql).map((s) => ({ ...s, facts: withEstimate(s.facts, rows) }));
    judge.judge(statements('DELETE FROM orders WHERE id > 1'), context());
    judge.judge(estimated('DELETE FROM orders WHERE id > 1', 4), context());
    judge.judge(estimated('DELETE FROM orders WHERE id > 2', 4), context());
    expect(inputs.map((i) => i.statement.estimated_rows)).toEqual([null, 4]);
    judge.judge(estimated('DELETE FROM orders WHERE id > 0', 5000), context());
    judge.judge(statements('DELETE FROM orders WHERE id > 0'), context());
    expect(inputs.map((i) => i.statement.estimated_rows)).toEqual([null, 4, 5000]);
  });

  it('never keeps a decision that involved an approval', () => {
    const { engine: e, inputs } = engine('rev-1', { approval: { required: true, id: null } });
    const judge = judgeWith(e);
    judge.judge(statements('SELECT email FROM orders WHERE id = 1'), context());
    judge.judge(statements('SELECT email FROM orders WHERE id = 1'), context());
    expect(inputs).toHaveLength(2);
    expect(judge.cacheSize).toBe(0);
  });

  it('refuses everything while no bundle is served', () => {
    const verdict = judgeWith(null).judge(statements('SELECT 1; SELECT 2'), context());
    expect(verdict).toMatchObject({
      allow: false,
      outcome: 'blocked',
      denial: { rule: 'policy.no_bundle' },
      revision: null,
    });
    expect(verdict.decisions).toHaveLength(2);
  });
});

describe('the policy input as JSON text', () => {
  it('is the JSON of inputOf, key for key, for every context and second', () => {
    const s = statements('SELECT email, "naïve ""col""" FROM orders WHERE note = \'x\\y\'')[0]!;
    const contexts = [
      context(),
      context({ identity: { ...alice, sub: 'ünï"cødé\\主体', groups: ['a', 'b"c'] } }),
      context({ searchPath: ['"$user"', 'public'], inTransaction: true, applicationName: '' }),
    ];
    for (const ctx of contexts) {
      for (const nowMs of [1_700_000_000_000, 1_700_000_000_999, 1_700_000_001_000, 0]) {
        const text = inputJson(s, ctx, nowMs);
        expect(text).toBe(JSON.stringify(inputOf(s, ctx, nowMs)));
        expect(JSON.parse(text).now).toBe(new Date(Math.floor(nowMs / 1000) * 1000).toISOString());
      }
    }
  });

  it('goes to an engine that takes it, with the same decision as the object would get', () => {
    const { engine: plain, inputs } = engine();
    const texts: string[] = [];
    const e: PolicyEngine = {
      revision: plain.revision,
      evaluate: () => {
        throw new Error('the object path is not used when the engine takes JSON');
      },
      evaluateJson: (json) => {
        texts.push(json);
        return plain.evaluate(JSON.parse(json) as PolicyInput);
      },
    };
    const verdict = judgeWith(e, 0).judge(statements('SELECT email FROM orders'), context());
    expect(verdict.outcome).toBe('masked');
    expect(texts).toHaveLength(1);
    // What the object path would hand the engine, as the JSON both paths become.
    const object = inputOf(
      statements('SELECT email FROM orders')[0]!,
      context(),
      1_700_000_000_000,
    );
    expect(inputs[0]).toEqual(JSON.parse(JSON.stringify(object)));
  });
});
