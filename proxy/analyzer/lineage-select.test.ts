// Output lineage of SELECT target lists: plain columns through aliases, expressions derived from
// columns (casts, operators, functions, aggregates, windows, CASE, subqueries), whole rows, stars.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Analyzer, createAnalyzer, loadAnalyzer } from './analyzer.js';
import type { OutputLineage } from './facts.js';

let analyzer: Analyzer;

beforeAll(async () => {
  await loadAnalyzer();
  analyzer = createAnalyzer({ cacheSize: 0 });
});

const ctx = { searchPath: ['public'], prepared: () => undefined, cursors: () => undefined };

function outputs(sql: string): readonly OutputLineage[] | null {
  const r = analyzer.analyze(sql, ctx);
  expect(r.statements).toHaveLength(1);
  return r.statements[0]!.outputs;
}

const col = (c: string): OutputLineage => ({ kind: 'column', source: `public.${c}` });
const der = (...s: string[]): OutputLineage => ({
  kind: 'derived',
  sources: s.map((x) => `public.${x}`),
});
const star = (t: string): OutputLineage => ({ kind: 'star', table: `public.${t}` });
const SSN = der('customers.ssn');

describe('lineage: one target of customers', () => {
  const cases: [string, OutputLineage][] = [
    ['ssn', col('customers.ssn')],
    ['ssn AS x', col('customers.ssn')],
    ['c.ssn AS "Renamed"', col('customers.ssn')],
    ['public.customers.ssn', col('customers.ssn')],
    ['ssn::int', SSN],
    ['CAST(ssn AS text)', SSN],
    ['ssn::text::varchar(3)', SSN],
    ["'x' || ssn", SSN],
    ['ssn || name', der('customers.name', 'customers.ssn')],
    ['upper(ssn)', SSN],
    ['lower(trim(ssn))', SSN],
    ["format('%s', ssn)", SSN],
    ["concat_ws('-', ssn, 'x')", SSN],
    ['concat(name, ssn)', der('customers.name', 'customers.ssn')],
    ['substr(ssn, 1, 3)', SSN],
    ['substring(ssn FROM 6)', SSN],
    ["left(ssn, 3) || '***'", SSN],
    ['md5(ssn)', SSN],
    ['length(ssn) > 5', SSN],
    ['ssn IS NULL', SSN],
    ["ssn LIKE '1%'", SSN],
    ['max(ssn)', SSN],
    ["string_agg(ssn, ',')", SSN],
    ['count(ssn)', SSN],
    ['count(DISTINCT ssn)', SSN],
    ['count(*)', der()],
    ['array_agg(ssn ORDER BY id)', der('customers.id', 'customers.ssn')],
    ["count(*) FILTER (WHERE ssn LIKE '1%')", SSN],
    ['max(ssn) OVER (PARTITION BY region)', der('customers.region', 'customers.ssn')],
    ['row_number() OVER (ORDER BY ssn)', SSN],
    ['lag(ssn) OVER ()', SSN],
    ["CASE WHEN ssn LIKE '1%' THEN 'a' ELSE 'b' END", SSN],
    ['CASE ssn WHEN name THEN 1 END', der('customers.name', 'customers.ssn')],
    ["COALESCE(ssn, 'none')", SSN],
    ['NULLIF(ssn, name)', der('customers.name', 'customers.ssn')],
    ['GREATEST(ssn, name)', der('customers.name', 'customers.ssn')],
    ["json_build_object('s', ssn)", SSN],
    ["jsonb_build_object('s', ssn, 'n', 1)", SSN],
    ['jsonb_agg(ssn)', SSN],
    ['json_agg(ssn)', SSN],
    ["JSON_OBJECT('s': ssn)", SSN],
    ['to_json(ssn)', SSN],
    ['ARRAY[ssn, name]', der('customers.name', 'customers.ssn')],
    ['ROW(ssn, 1)', SSN],
    ['(ARRAY[ssn])[1]', SSN],
    ['ssn COLLATE "C"', SSN],
    ['1', der()],
    ["'constant'", der()],
    ['now()', der()],
    ['$1', der()],
    ['(SELECT max(o.total) FROM orders o)', der('orders.total')],
  ];
  it.each(cases)('SELECT %s FROM customers c', (target, expected) => {
    const from = 'FROM customers c';
    expect(outputs(`SELECT ${target} ${from}`)).toEqual([expected]);
  });
});

describe('lineage: whole-row references depend on every column', () => {
  const ALL = der('customers.*');
  it.each([
    ['SELECT c FROM customers c'],
    ['SELECT customers FROM customers'],
    ['SELECT row_to_json(c) FROM customers c'],
    ['SELECT to_jsonb(c.*) FROM customers c'],
    ['SELECT array_agg(c) FROM customers c'],
    ['SELECT c::text FROM customers c'],
    ['SELECT (c).* FROM customers c'],
    ['SELECT hstore(c) FROM customers c'],
    ['SELECT json_agg(t) FROM (SELECT * FROM customers) t'],
  ])('%s', (sql) => {
    expect(outputs(sql)).toEqual([ALL]);
  });

  it('a whole row of a derived table depends on its outputs only', () => {
    expect(outputs('SELECT row_to_json(s) FROM (SELECT ssn, id + 1 FROM customers) s')).toEqual([
      der('customers.id', 'customers.ssn'),
    ]);
  });

  it('a field of a whole row is derived from the row', () => {
    expect(outputs('SELECT (c).ssn FROM customers c')).toEqual([ALL]);
  });
});

describe('lineage: stars', () => {
  it('* and t.* give one star per table', () => {
    expect(outputs('SELECT * FROM customers')).toEqual([star('customers')]);
    expect(outputs('TABLE customers')).toEqual([star('customers')]);
    expect(outputs('SELECT c.*, o.id FROM customers c, orders o')).toEqual([
      star('customers'),
      col('orders.id'),
    ]);
    expect(outputs('SELECT * FROM customers c JOIN orders o ON o.cid = c.id')).toEqual([
      star('customers'),
      star('orders'),
    ]);
  });

  it('a star over a derived table or CTE expands to its outputs', () => {
    expect(outputs('SELECT * FROM (SELECT ssn AS x FROM customers) s')).toEqual([
      col('customers.ssn'),
    ]);
    expect(outputs('WITH w AS (SELECT upper(ssn), id FROM customers) SELECT w.* FROM w')).toEqual([
      SSN,
      col('customers.id'),
    ]);
    expect(outputs('SELECT * FROM (SELECT * FROM customers) s')).toEqual([star('customers')]);
  });

  it('a join alias star covers both sides', () => {
    expect(outputs('SELECT j.* FROM (customers c JOIN orders o ON true) AS j')).toEqual([
      star('customers'),
      star('orders'),
    ]);
  });
});

describe('lineage: joins and name resolution', () => {
  it('qualified references pick their table; unqualified shared names may be either', () => {
    const sql = 'SELECT c.id, o.id, ssn FROM customers c JOIN orders o ON o.cid = c.id';
    expect(outputs(sql)).toEqual([
      col('customers.id'),
      col('orders.id'),
      der('customers.ssn', 'orders.ssn'),
    ]);
  });

  it('a USING column comes from both sides', () => {
    expect(outputs('SELECT id FROM customers JOIN orders USING (id)')).toEqual([
      der('customers.id', 'orders.id'),
    ]);
  });

  it('a join alias column may come from either side', () => {
    expect(outputs('SELECT j.ssn FROM (customers c JOIN orders o ON true) AS j')).toEqual([
      der('customers.ssn', 'orders.ssn'),
    ]);
  });

  it('renamed table columns could be any column', () => {
    expect(outputs('SELECT a FROM customers AS c(a, b)')).toEqual([der('customers.*')]);
  });

  it('a correlated scalar subquery depends on its inputs from both levels', () => {
    const sql =
      'SELECT c.name, (SELECT max(o.total) FROM orders o WHERE o.cid = c.id) FROM customers c';
    expect(outputs(sql)).toEqual([
      col('customers.name'),
      der('customers.id', 'orders.cid', 'orders.total'),
    ]);
  });

  it('scalar, EXISTS and IN subqueries', () => {
    expect(outputs('SELECT (SELECT ssn FROM customers LIMIT 1)')).toEqual([SSN]);
    expect(outputs("SELECT EXISTS (SELECT * FROM customers WHERE ssn = '1')")).toEqual([SSN]);
    expect(outputs('SELECT EXISTS (SELECT ssn FROM customers)')).toEqual([der()]);
    expect(outputs('SELECT id IN (SELECT o.cid FROM orders o) FROM customers')).toEqual([
      der('customers.id', 'orders.cid'),
    ]);
    // Unqualified inside a subquery, `cid` may also be a correlated reference to customers.
    expect(outputs('SELECT id IN (SELECT cid FROM orders) FROM customers')).toEqual([
      der('customers.cid', 'customers.id', 'orders.cid'),
    ]);
    expect(outputs('SELECT ARRAY(SELECT ssn FROM customers)')).toEqual([SSN]);
  });
});
