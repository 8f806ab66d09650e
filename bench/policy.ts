// The benchmark's policy: the template's Rego, guardrails and settings, 50 grants (one for the bench
// identity, 49 for other subjects, groups and tables) and masking of the people table, compiled at bench
// start with the pinned OPA (.tools/bin/opa) through the test harness.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMPLATE_DIR } from '../policy/testing/template-bundle.js';
import { createTestPolicy, type GrantSpec } from '../test/harness/policy.js';

/** The static identity clients present to pgward (config `auth.users`); cleartext on loopback. */
export const BENCH_USER = {
  name: 'svc-bench',
  password: 'bench-secret-1',
  groups: ['bench'],
} as const;

/** The masking table and its unmasked twin (same rows), both granted to the bench identity. */
export const PEOPLE = { masked: 'bench_people', plain: 'bench_people_plain' } as const;

const GRANTS = 50;
const MIN_GUARDRAILS = 20;
const PGBENCH_TABLES = [
  'pgbench_accounts',
  'pgbench_branches',
  'pgbench_tellers',
  'pgbench_history',
];

export interface BenchPolicy extends AsyncDisposable {
  readonly bundleDir: string;
  readonly grants: number;
  /** Guardrails configured in data/guardrails.json (built-in fail-closed ones included). */
  readonly guardrails: number;
  /** Of those, the ones whose enforce flag is not false. */
  readonly enforcedGuardrails: number;
}

export async function buildBenchPolicy(database: string): Promise<BenchPolicy> {
  const guardrails = await templateData<{ guardrails: Record<string, { enforce?: boolean }> }>(
    'guardrails.json',
  );
  const ids = Object.keys(guardrails.guardrails);
  const enforced = ids.filter((id) => guardrails.guardrails[id]?.enforce !== false).length;
  // The template ships more than 20; if it ever ships fewer, the figures stop meaning "20 guardrails".
  if (enforced < MIN_GUARDRAILS) {
    throw new Error(
      `policy/template enables ${enforced} guardrails; the bench expects ${MIN_GUARDRAILS}`,
    );
  }
  const settings = await templateData<Record<string, unknown>>('settings.json');
  const masking = await templateData<{ masking: Record<string, string> }>('masking.json');
  const grants = benchGrants(database);
  const policy = await createTestPolicy({
    grants,
    data: {
      // The bulk and masking reads return 1,000,000 rows by design: no default row cap.
      'settings.json': { ...settings, max_rows: null },
      'masking.json': {
        masking: {
          ...masking.masking,
          [`public.${PEOPLE.masked}.email`]: 'email',
          [`public.${PEOPLE.masked}.ssn`]: 'redact',
        },
      },
    },
  });
  return {
    bundleDir: policy.bundleDir,
    grants: grants.length,
    guardrails: ids.length,
    enforcedGuardrails: enforced,
    [Symbol.asyncDispose]: () => policy[Symbol.asyncDispose](),
  };
}

/** The bench identity's grant first, then 49 others shaped like a real repo's. */
function benchGrants(database: string): GrantSpec[] {
  const grants: GrantSpec[] = [
    {
      id: 'bench-svc-bench-pgbench',
      subject: { sub: BENCH_USER.name },
      database,
      objects: [
        ...PGBENCH_TABLES.map((table) => ({ table, actions: ['select', 'insert', 'update'] })),
        { table: PEOPLE.masked, actions: ['select'] },
        { table: PEOPLE.plain, actions: ['select'] },
      ],
    },
  ];
  for (let i = 1; grants.length < GRANTS; i++) {
    const n = String(i).padStart(2, '0');
    // Every third grant is for a group (two of them the bench identity's own group, on other tables);
    // half are on the bench database, so the policy has same-database grants to look through.
    const subject =
      i % 3 === 0
        ? { group: i % 9 === 0 && i <= 18 ? BENCH_USER.groups[0] : `team-${n}` }
        : { sub: `svc-agent-${n}@example.com` };
    const tables = [`orders_${n}`, `customers_${n}`, `events_${n}`].slice(0, 1 + (i % 3));
    grants.push({
      id: `bench-other-${n}`,
      subject,
      database: i % 2 === 0 ? database : 'app',
      objects: tables.map((table) => ({
        schema: i % 5 === 0 ? 'reporting' : 'public',
        table,
        actions: i % 4 === 0 ? ['select', 'insert', 'update', 'delete'] : ['select'],
      })),
      ...(i % 7 === 0 ? { functions: ['reporting.*'] } : {}),
      ...(i % 6 === 0 ? { mask_exempt: [`public.customers_${n}.email`] } : {}),
    });
  }
  return grants;
}

async function templateData<T>(name: string): Promise<T> {
  return JSON.parse(await readFile(join(TEMPLATE_DIR, 'data', name), 'utf8')) as T;
}
