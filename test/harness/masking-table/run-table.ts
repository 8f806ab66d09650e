// Runs the masking table in one driver mode: every case through the gateway (behind the recording
// tap) and straight on PostgreSQL, then one test per case and one for every byte the client received.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Endpoint } from '../drivers/driver-env.js';
import type { CaseResult, DriverMode, MaskCase } from './case.js';
import type { MaskingTableEnv } from './fixture.js';
import { judgeCase } from './judge.js';
import { runPsqlCase, runPsycopgCases } from './run-external.js';
import type { OpenSession } from './run-node.js';
import { leaks } from './secrets.js';
import { casesFor } from './table.js';

export type ModeRunner =
  | { readonly kind: 'session'; readonly open: OpenSession }
  | { readonly kind: 'psql' }
  | { readonly kind: 'psycopg'; readonly binary: boolean };

interface Observed {
  readonly gateway: CaseResult;
  readonly direct: CaseResult;
  /** Secret patterns in the bytes of this case (undefined when the run is one batch). */
  readonly leaked?: readonly string[];
}

/** Runs `cases` on one connection per endpoint, in order; `each` frames every case for the tap. */
async function runSession(
  open: OpenSession,
  e: Endpoint,
  cases: readonly MaskCase[],
  each: (c: MaskCase, run: () => Promise<CaseResult>) => Promise<CaseResult>,
): Promise<CaseResult[]> {
  const session = await open(e);
  try {
    const out: CaseResult[] = [];
    for (const c of cases) {
      out.push(
        await each(c, async () => {
          for (const s of c.before ?? []) {
            const r = await session.run(s, false);
            if (!r.ok) return r;
          }
          const result = await session.run(c.sql, c.copy !== undefined);
          for (const s of c.after ?? []) await session.run(s, false);
          return result;
        }),
      );
    }
    return out;
  } finally {
    await session.close();
  }
}

async function observe(
  env: MaskingTableEnv,
  runner: ModeRunner,
  cases: readonly MaskCase[],
): Promise<{ observed: Map<string, Observed>; batchLeaks: string[] }> {
  const observed = new Map<string, Observed>();
  const batchLeaks = new Set<string>();
  const caseLeaks = new Map<string, string[]>();
  env.tap.reset();
  let gateway: CaseResult[];
  let direct: CaseResult[];
  const framed = async (c: MaskCase, run: () => Promise<CaseResult>) => {
    env.tap.reset();
    const r = await run();
    const found = leaks(env.tap.received());
    caseLeaks.set(c.id, found);
    for (const l of found) batchLeaks.add(l);
    return r;
  };
  switch (runner.kind) {
    case 'session':
      gateway = await runSession(runner.open, env.gateway, cases, framed);
      direct = await runSession(runner.open, env.direct, cases, (_c, run) => run());
      break;
    case 'psql':
      gateway = [];
      direct = [];
      for (const c of cases) {
        gateway.push(await framed(c, () => runPsqlCase(env.gateway, c)));
        direct.push(await runPsqlCase(env.direct, c));
      }
      break;
    case 'psycopg':
      gateway = await runPsycopgCases(env.gateway, cases, runner.binary);
      for (const l of leaks(env.tap.received())) batchLeaks.add(l);
      direct = await runPsycopgCases(env.direct, cases, runner.binary);
      break;
  }
  cases.forEach((c, i) => {
    const leaked = caseLeaks.get(c.id);
    observed.set(c.id, {
      gateway: gateway[i] as CaseResult,
      direct: direct[i] as CaseResult,
      ...(leaked === undefined ? {} : { leaked }),
    });
  });
  return { observed, batchLeaks: [...batchLeaks] };
}

export function describeMaskingTable(
  mode: DriverMode,
  env: () => MaskingTableEnv,
  runner: ModeRunner,
): void {
  const cases = casesFor(mode);
  describe(mode, () => {
    let observed = new Map<string, Observed>();
    let batchLeaks: string[] = [];
    beforeAll(async () => {
      ({ observed, batchLeaks } = await observe(env(), runner, cases));
    }, 120_000);

    for (const c of cases) {
      it(c.id, () => {
        const o = observed.get(c.id);
        expect(o, `${c.id}: not run`).toBeDefined();
        if (o === undefined) return;
        expect(o.leaked ?? [], `${c.id}: secrets in the bytes the client received`).toEqual([]);
        judgeCase(c, o.gateway, o.direct);
      });
    }

    it('sent no secret, in any form, in any byte the client received', () => {
      expect(batchLeaks).toEqual([]);
    });
  });
}
