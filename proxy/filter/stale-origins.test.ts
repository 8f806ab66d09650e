// Stale column origins: a RowDescription that contradicts the cached catalog (DDL the gateway never
// saw) is found, and a contradiction that survives a reload is masked by the stricter reading.
import { describe, expect, it } from 'vitest';
import type { ColumnOrigins, RelationInfo } from './column-origins.js';
import type { MaskMethod } from './mask-methods.js';
import {
  type FieldDescription,
  type OutputLineage,
  planFields,
  staleOrigins,
} from './row-masker.js';

const OID = 16_400;

function origins(columns: [number, string][]): ColumnOrigins {
  const rel: RelationInfo = { schema: 'public', table: 'customers', columns: new Map(columns) };
  return {
    cached: (oid) => (oid === OID ? rel : undefined),
    load: async () => {},
    columnsOf: async () => null,
    invalidate: () => {},
    close: () => {},
    size: 1,
  };
}

const field = (name: string, attnum: number, tableOid = OID): FieldDescription => ({
  name,
  tableOid,
  attnum,
  typeOid: 25,
  format: 0,
});

const column = (c: string): OutputLineage => ({ kind: 'column', source: `public.customers.${c}` });
const MASK: Record<string, MaskMethod> = { 'public.customers.ssn': 'redact' };
/** What the cache says: attribute 2 is name, 5 is ssn. */
const cached = origins([
  [1, 'id'],
  [2, 'name'],
  [5, 'ssn'],
]);

describe('staleOrigins', () => {
  it('trusts a description that matches the cache', () => {
    expect(
      staleOrigins([field('id', 1), field('ssn', 5)], [column('id'), column('ssn')], cached),
    ).toEqual([]);
    // An alias the lineage confirms is no contradiction.
    expect(staleOrigins([field('x', 5)], [column('ssn')], cached)).toEqual([]);
    // Fields of no table, and tables not cached yet, are someone else's concern.
    expect(staleOrigins([field('?column?', 0, 0), field('v', 1, 99)], null, cached)).toEqual([]);
  });

  it('finds a renamed column by its output name or by the lineage', () => {
    // After `RENAME name TO ssn`, attribute 2 is answered under the name ssn.
    expect(staleOrigins([field('ssn', 2)], null, cached)).toEqual([OID]);
    expect(staleOrigins([field('x', 2)], [column('ssn')], cached)).toEqual([OID]);
  });

  it('finds an attribute the cache does not know (a column added since)', () => {
    expect(staleOrigins([field('email', 11)], [column('email')], cached)).toEqual([OID]);
  });

  it('suspects an alias it cannot confirm (a star hides the positions)', () => {
    const outputs: OutputLineage[] = [{ kind: 'star', table: 'public.customers' }, column('ssn')];
    expect(staleOrigins([field('id', 1), field('x', 5)], outputs, cached)).toEqual([OID]);
  });
});

describe('planFields when the catalog and the analyzer still disagree', () => {
  it('masks by the stricter reading', () => {
    const plan = planFields([field('ssn', 2)], MASK, [column('ssn')], cached);
    expect(plan?.methods).toEqual(['redact']);
    const reverse = planFields([field('name', 5)], MASK, [column('name')], cached);
    expect(reverse?.methods).toEqual(['redact']);
  });
});
