// facts.predicate_columns: every table column a predicate names (WHERE, JOIN, GROUP BY, HAVING,
// ORDER BY, windows, DISTINCT ON, FILTER, LIMIT), in subqueries too, resolved like reads.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Analyzer, createAnalyzer, loadAnalyzer } from './analyzer.js';

let analyzer: Analyzer;

beforeAll(async () => {
  await loadAnalyzer();
  analyzer = createAnalyzer({ cacheSize: 0 });
});

const ctx = { searchPath: ['public'], prepared: () => undefined, cursors: () => undefined };

function predicates(sql: string): readonly string[] {
  const r = analyzer.analyze(sql, ctx);
  expect(r.statements).toHaveLength(1);
  return r.statements[0]!.facts.predicate_columns;
}

const p = (...c: string[]) => c.map((x) => `public.${x}`);

describe('predicate columns by clause', () => {
  const cases: [string, string, readonly string[]][] = [
    ['none', 'SELECT ssn, upper(name) FROM customers', []],
    ['WHERE', "SELECT id FROM customers WHERE ssn LIKE '1%'", p('customers.ssn')],
    [
      'WHERE with AND/OR and a function',
      "SELECT 1 FROM customers c WHERE c.id = 1 OR lower(c.email) = 'x'",
      p('customers.email', 'customers.id'),
    ],
    [
      'JOIN ON',
      'SELECT c.name FROM customers c JOIN orders o ON o.cid = c.id',
      p('customers.id', 'orders.cid'),
    ],
    [
      'JOIN USING',
      'SELECT 1 FROM customers JOIN orders USING (id)',
      p('customers.id', 'orders.id'),
    ],
    ['NATURAL JOIN', 'SELECT 1 FROM customers NATURAL JOIN orders', p('customers.*', 'orders.*')],
    ['GROUP BY expression', 'SELECT count(*) FROM customers GROUP BY ssn', p('customers.ssn')],
    ['GROUP BY position', 'SELECT ssn, count(*) FROM customers GROUP BY 1', p('customers.ssn')],
    [
      'GROUP BY ROLLUP',
      'SELECT count(*) FROM customers GROUP BY ROLLUP (region, ssn)',
      p('customers.region', 'customers.ssn'),
    ],
    [
      'HAVING',
      "SELECT region FROM customers GROUP BY region HAVING max(ssn) > '5'",
      p('customers.region', 'customers.ssn'),
    ],
    ['ORDER BY column', 'SELECT id FROM customers ORDER BY ssn DESC', p('customers.ssn')],
    ['ORDER BY output name', 'SELECT ssn AS x FROM customers ORDER BY x', p('customers.ssn')],
    ['ORDER BY position', 'SELECT id, ssn FROM customers ORDER BY 2', p('customers.ssn')],
    [
      'ORDER BY position after a star: every output',
      'SELECT *, ssn FROM customers ORDER BY 2',
      p('customers.*'),
    ],
    [
      'window PARTITION BY / ORDER BY',
      'SELECT rank() OVER (PARTITION BY region ORDER BY salary) FROM staff',
      p('staff.region', 'staff.salary'),
    ],
    [
      'named window',
      'SELECT sum(x) OVER w FROM staff WINDOW w AS (PARTITION BY dept ORDER BY ssn)',
      p('staff.dept', 'staff.ssn'),
    ],
    ['DISTINCT ON', 'SELECT DISTINCT ON (ssn) name FROM customers', p('customers.ssn')],
    [
      'plain DISTINCT groups by every output',
      'SELECT DISTINCT ssn FROM customers',
      p('customers.ssn'),
    ],
    [
      'aggregate FILTER',
      "SELECT count(*) FILTER (WHERE ssn LIKE '1%') FROM customers",
      p('customers.ssn'),
    ],
    [
      'LIMIT with a subquery',
      "SELECT id FROM customers LIMIT (SELECT count(*) FROM staff s WHERE s.ssn < '5')",
      p('staff.ssn'),
    ],
    [
      'ambiguous names count for every table',
      "SELECT 1 FROM customers c, orders o WHERE ssn = '1'",
      p('customers.ssn', 'orders.ssn'),
    ],
  ];
  it.each(cases)('%s', (_name, sql, expected) => {
    expect(predicates(sql)).toEqual(expected);
  });
});

describe('predicate columns in subqueries', () => {
  it("a sub-select's own predicates count, its selected columns do not", () => {
    expect(predicates("SELECT (SELECT name FROM customers WHERE ssn = '1')")).toEqual(
      p('customers.ssn'),
    );
  });

  it('the values an IN subquery compares are predicates of the outer WHERE', () => {
    expect(
      predicates('SELECT 1 FROM orders o WHERE o.cid IN (SELECT c.ssn FROM customers c)'),
    ).toEqual(p('customers.ssn', 'orders.cid'));
  });

  it('EXISTS: the subquery predicates, not its target list', () => {
    const sql =
      'SELECT 1 FROM customers c WHERE EXISTS (SELECT * FROM orders o WHERE o.cid = c.id)';
    expect(predicates(sql)).toEqual(p('customers.id', 'orders.cid'));
  });

  it('predicates inside derived tables, CTEs and FROM functions', () => {
    expect(predicates("SELECT * FROM (SELECT name FROM customers WHERE ssn = '1') s")).toEqual(
      p('customers.ssn'),
    );
    expect(
      predicates("WITH x AS (SELECT id FROM customers WHERE ssn = '1') SELECT * FROM x"),
    ).toEqual(p('customers.ssn'));
  });

  it('a predicate on a derived column names its source column', () => {
    expect(
      predicates("SELECT 1 FROM (SELECT ssn AS x FROM customers) s WHERE s.x LIKE '1%'"),
    ).toEqual(p('customers.ssn'));
    expect(
      predicates("WITH w AS (SELECT md5(ssn) AS h FROM customers) SELECT 1 FROM w WHERE h = 'a'"),
    ).toEqual(p('customers.ssn'));
  });

  it('a predicate on an opaque column names what is known to feed it', () => {
    const sql = "SELECT 1 FROM customers c, unnest(ARRAY[c.ssn]) u WHERE u.u LIKE '1%'";
    expect(predicates(sql)).toEqual(p('customers.ssn'));
    // Unqualified, `u` may also be a column of customers.
    const bare = "SELECT 1 FROM customers c, unnest(ARRAY[c.ssn]) u WHERE u LIKE '1%'";
    expect(predicates(bare)).toEqual(p('customers.ssn', 'customers.u'));
  });
});

describe('predicate columns of other statements', () => {
  it('UPDATE, DELETE and MERGE conditions', () => {
    expect(predicates("UPDATE customers SET name = 'x' WHERE ssn = '1'")).toEqual(
      p('customers.ssn'),
    );
    expect(predicates('DELETE FROM orders o USING customers c WHERE o.cid = c.id')).toEqual(
      p('customers.id', 'orders.cid'),
    );
    const merge =
      "MERGE INTO customers c USING staff s ON s.id = c.id WHEN MATCHED AND s.ssn = '1' THEN DELETE";
    expect(predicates(merge)).toEqual(p('customers.id', 'staff.id', 'staff.ssn'));
  });

  it('EXECUTE and FETCH carry the stored predicates; EXPLAIN without ANALYZE does not', () => {
    const s = analyzer.analyze(
      "PREPARE q AS SELECT 1 FROM customers WHERE ssn = $1; EXECUTE q('1')",
      ctx,
    ).statements;
    expect(s.map((x) => x.facts.predicate_columns)).toEqual([
      p('customers.ssn'),
      p('customers.ssn'),
    ]);
    expect(predicates("EXPLAIN SELECT 1 FROM customers WHERE ssn = '1'")).toEqual([]);
    expect(predicates("EXPLAIN ANALYZE SELECT 1 FROM customers WHERE ssn = '1'")).toEqual(
      p('customers.ssn'),
    );
  });

  it('is sorted and deduplicated', () => {
    const sql = 'SELECT 1 FROM t WHERE b = 1 AND a = 2 AND b = 3 GROUP BY a, b ORDER BY b, a';
    expect(predicates(sql)).toEqual(p('t.a', 't.b'));
  });
});
