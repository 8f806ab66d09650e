// Facts of queries and DML: tables and columns read, writes, functions, and name resolution
// (case folding, quoting, search_path, pg_catalog, CTE shadowing, aliases, correlation).
import { beforeAll, describe, expect, it } from 'vitest';
import { type Analyzer, createAnalyzer, loadAnalyzer } from './analyzer.js';
import type { AnalyzeContext, StatementFacts } from './facts.js';

let analyzer: Analyzer;

beforeAll(async () => {
  await loadAnalyzer();
  analyzer = createAnalyzer({ cacheSize: 0 });
});

function ctx(searchPath: readonly string[] = ['$user', 'public']): AnalyzeContext {
  return { searchPath, prepared: () => undefined, cursors: () => undefined };
}

function one(sql: string, c: AnalyzeContext = ctx()): StatementFacts {
  const r = analyzer.analyze(sql, c);
  expect(r.statements).toHaveLength(1);
  return r.statements[0]!.facts;
}

function reads(sql: string, c?: AnalyzeContext): Record<string, readonly string[]> {
  return Object.fromEntries(one(sql, c).reads.map((r) => [`${r.schema}.${r.table}`, r.columns]));
}

describe('SELECT: tables and columns', () => {
  it('resolves unqualified tables and columns of a single-table query', () => {
    const f = one('SELECT id, email FROM customers WHERE id = 1');
    expect(f.command).toBe('SELECT');
    expect(f.reads).toEqual([{ schema: 'public', table: 'customers', columns: ['email', 'id'] }]);
    expect(f.writes).toEqual([]);
    expect(f.flags).toEqual([]);
    expect(f.estimated_rows).toBeNull();
    expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(f.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it('reports * for SELECT * and TABLE', () => {
    expect(reads('SELECT * FROM customers')).toEqual({ 'public.customers': ['*'] });
    expect(reads('TABLE customers')).toEqual({ 'public.customers': ['*'] });
  });

  it('counts a table read even when no column is named', () => {
    expect(reads('SELECT count(*) FROM customers')).toEqual({ 'public.customers': [] });
  });

  it('resolves columns through aliases in joins', () => {
    expect(
      reads(
        'SELECT o.id, c.email FROM orders o JOIN public.customers AS c ON o.customer_id = c.id',
      ),
    ).toEqual({ 'public.orders': ['customer_id', 'id'], 'public.customers': ['email', 'id'] });
  });

  it('attributes an ambiguous unqualified column to every table in scope', () => {
    expect(reads('SELECT ssn FROM orders o, customers c WHERE o.id = c.id')).toEqual({
      'public.orders': ['id', 'ssn'],
      'public.customers': ['id', 'ssn'],
    });
  });

  it('reads USING columns on both sides and every column of a NATURAL join', () => {
    expect(reads('SELECT 1 FROM a JOIN b USING (id)')).toEqual({
      'public.a': ['id'],
      'public.b': ['id'],
    });
    expect(reads('SELECT 1 FROM a NATURAL JOIN b')).toEqual({
      'public.a': ['*'],
      'public.b': ['*'],
    });
  });

  it('resolves a join alias to both sides', () => {
    expect(reads('SELECT j.id FROM (a JOIN b ON true) AS j')).toEqual({
      'public.a': ['id'],
      'public.b': ['id'],
    });
  });

  it('resolves schema-qualified column references', () => {
    expect(reads('SELECT public.customers.email FROM public.customers')).toEqual({
      'public.customers': ['email'],
    });
  });

  it('treats a whole-row reference as every column', () => {
    expect(reads('SELECT row_to_json(c) FROM customers c')['public.customers']).toContain('*');
    expect(reads('SELECT (c).ssn FROM customers c')['public.customers']).toContain('*');
    expect(reads('SELECT c.* FROM customers c')).toEqual({ 'public.customers': ['*'] });
  });

  it('treats renamed columns (t AS x(a, b)) as every column', () => {
    expect(reads('SELECT x.a FROM customers AS x(a, b)')['public.customers']).toContain('*');
  });

  it('follows columns into subqueries in FROM', () => {
    expect(reads('SELECT s.x FROM (SELECT ssn AS x FROM customers) s')).toEqual({
      'public.customers': ['ssn'],
    });
  });

  it('attributes unqualified columns of a correlated subquery to the outer tables too', () => {
    const r = reads(
      'SELECT id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE ssn LIKE $1)',
    );
    expect(r['public.customers']).toContain('ssn');
    expect(r['public.orders']).toContain('ssn');
  });

  it('stops at a subquery that is known to have the column', () => {
    expect(reads('SELECT x FROM (SELECT ssn AS x FROM customers) s')).toEqual({
      'public.customers': ['ssn'],
    });
  });

  it('lets LATERAL subqueries see earlier FROM items', () => {
    expect(
      reads('SELECT * FROM customers c, LATERAL (SELECT c.ssn) s')['public.customers'],
    ).toEqual(['*', 'ssn']);
  });

  it('reads both sides of a set operation', () => {
    expect(
      reads('SELECT email FROM customers UNION ALL SELECT email FROM leads ORDER BY 1'),
    ).toEqual({
      'public.customers': ['email'],
      'public.leads': ['email'],
    });
  });

  it('does not read a table for ORDER BY an output alias', () => {
    expect(reads('SELECT email AS e FROM customers ORDER BY e')).toEqual({
      'public.customers': ['email'],
    });
  });

  it('reads GROUP BY, HAVING, window and DISTINCT ON columns', () => {
    expect(
      reads(
        'SELECT DISTINCT ON (region) region, sum(total) OVER (PARTITION BY status) FROM orders GROUP BY region, status, total HAVING max(score) > 1',
      ),
    ).toEqual({ 'public.orders': ['region', 'score', 'status', 'total'] });
  });

  it('reads nothing for VALUES and constant SELECTs', () => {
    expect(one('VALUES (1), (2)').reads).toEqual([]);
    expect(one('SELECT 1 + 1').reads).toEqual([]);
  });

  it('flags FOR UPDATE', () => {
    expect(one('SELECT * FROM t FOR UPDATE SKIP LOCKED').flags).toEqual(['locking_clause']);
  });
});

describe('name resolution', () => {
  it('folds unquoted identifiers to lower case', () => {
    expect(reads('SELECT EMAIL FROM PUBLIC.CUSTOMERS')).toEqual({ 'public.customers': ['email'] });
  });

  it('keeps the case of quoted identifiers', () => {
    expect(reads('SELECT "Email" FROM "Public"."Customers"')).toEqual({
      'Public.Customers': ['Email'],
    });
  });

  it('decodes unicode-escaped identifiers', () => {
    expect(
      reads('SELECT U&"\\0065mail" FROM U&"p\\0075blic".U&"!0063ustomers" UESCAPE \'!\''),
    ).toEqual({
      'public.customers': ['email'],
    });
  });

  it('resolves unqualified tables to the first schema of the search_path, ignoring $user', () => {
    expect(reads('SELECT * FROM orders', ctx(['$user', 'sales', 'public']))).toEqual({
      'sales.orders': ['*'],
    });
  });

  it('resolves catalog relations to pg_catalog and flags them', () => {
    const f = one('SELECT relname FROM pg_class');
    expect(f.reads).toEqual([{ schema: 'pg_catalog', table: 'pg_class', columns: ['relname'] }]);
    expect(f.flags).toContain('system_catalog');
    expect(one('SELECT * FROM pg_catalog.pg_authid').flags).toContain('system_catalog');
    expect(one('SELECT * FROM information_schema.tables').flags).toContain('system_catalog');
  });

  it('searches pg_catalog first only when the search_path does not put it later', () => {
    expect(reads('SELECT * FROM pg_class', ctx(['public', 'pg_catalog']))).toEqual({
      'public.pg_class': ['*'],
    });
    expect(reads('SELECT * FROM pg_class', ctx(['pg_catalog', 'public']))).toEqual({
      'pg_catalog.pg_class': ['*'],
    });
  });

  it('lets a CTE name shadow a table, but reads what the CTE body reads', () => {
    expect(reads('WITH customers AS (SELECT 1 AS id) SELECT * FROM customers')).toEqual({});
    expect(reads('WITH c AS (SELECT ssn FROM customers) SELECT * FROM c')).toEqual({
      'public.customers': ['ssn'],
    });
  });

  it('does not let a non-recursive CTE see itself: the name inside is the table', () => {
    expect(reads('WITH customers AS (SELECT * FROM customers) SELECT id FROM customers')).toEqual({
      'public.customers': ['*'],
    });
  });

  it('does not shadow schema-qualified names with a CTE', () => {
    expect(reads('WITH customers AS (SELECT 1) SELECT * FROM public.customers')).toEqual({
      'public.customers': ['*'],
    });
  });

  it('handles recursive CTEs', () => {
    expect(
      reads(
        'WITH RECURSIVE r(n) AS (SELECT id FROM nodes UNION ALL SELECT n + 1 FROM r WHERE n < 10) SELECT n FROM r',
      ),
    ).toEqual({ 'public.nodes': ['id'] });
  });

  it('resolves built-in functions to pg_catalog and others through the search_path', () => {
    expect(one('SELECT upper(email), my_fn(id), app.fn2() FROM customers').functions).toEqual([
      'app.fn2',
      'pg_catalog.upper',
      'public.my_fn',
    ]);
    expect(one('SELECT my_fn()', ctx(['app'])).functions).toEqual(['app.my_fn']);
    expect(one('SELECT extract(year FROM now())').functions).toEqual([
      'pg_catalog.extract',
      'pg_catalog.now',
    ]);
  });

  it('treats table functions in FROM as functions, not reads', () => {
    const f = one('SELECT g FROM generate_series(1, 10) AS g');
    expect(f.functions).toEqual(['pg_catalog.generate_series']);
    expect(f.reads).toEqual([]);
  });
});

describe('DML', () => {
  it('INSERT with a column list', () => {
    const f = one('INSERT INTO orders (id, total) VALUES (1, 9.5)');
    expect(f.command).toBe('INSERT');
    expect(f.writes).toEqual([
      {
        schema: 'public',
        table: 'orders',
        action: 'insert',
        has_where: false,
        columns: ['id', 'total'],
      },
    ]);
    expect(f.reads).toEqual([]);
  });

  it('INSERT without a column list writes every column', () => {
    expect(one('INSERT INTO orders VALUES (1)').writes[0]?.columns).toEqual(['*']);
  });

  it('INSERT ... SELECT reads the source; RETURNING reads the target', () => {
    const f = one(
      'INSERT INTO archive (id) SELECT id FROM orders WHERE total > 10 RETURNING archive.note',
    );
    expect(f.reads).toEqual([
      { schema: 'public', table: 'orders', columns: ['id', 'total'] },
      { schema: 'public', table: 'archive', columns: ['note'] },
    ]);
  });

  it('INSERT ... ON CONFLICT DO UPDATE is also an update', () => {
    const f = one(
      'INSERT INTO t (a, b) VALUES (1, 2) ON CONFLICT (a) DO UPDATE SET b = excluded.b',
    );
    expect(f.writes.map((w) => [w.action, w.columns])).toEqual([
      ['insert', ['a', 'b']],
      ['update', ['b']],
    ]);
  });

  it('UPDATE: target columns, WHERE and RETURNING reads', () => {
    const f = one('UPDATE customers SET email = lower(email) WHERE id = $1 RETURNING ssn');
    expect(f.writes).toEqual([
      {
        schema: 'public',
        table: 'customers',
        action: 'update',
        has_where: true,
        columns: ['email'],
      },
    ]);
    expect(f.reads).toEqual([
      { schema: 'public', table: 'customers', columns: ['email', 'id', 'ssn'] },
    ]);
  });

  it('UPDATE without WHERE, or with a constant WHERE, has no WHERE', () => {
    expect(one('UPDATE t SET a = 1').writes[0]?.has_where).toBe(false);
    expect(one('UPDATE t SET a = 1 WHERE true').writes[0]?.has_where).toBe(false);
    expect(one("UPDATE t SET a = 1 WHERE 1 = 1 OR 'a' = 'a'").writes[0]?.has_where).toBe(false);
  });

  it('UPDATE with multi-column assignment and FROM', () => {
    const f = one(
      'UPDATE t SET (a, b) = (SELECT x, y FROM s WHERE s.id = t.id) FROM u WHERE u.k = t.k',
    );
    expect(f.writes[0]?.columns).toEqual(['a', 'b']);
    expect(
      Object.keys(
        reads(
          'UPDATE t SET (a, b) = (SELECT x, y FROM s WHERE s.id = t.id) FROM u WHERE u.k = t.k',
        ),
      ),
    ).toEqual(['public.u', 'public.s', 'public.t']);
  });

  it('DELETE with and without a WHERE', () => {
    expect(one('DELETE FROM orders WHERE id = 7').writes).toEqual([
      { schema: 'public', table: 'orders', action: 'delete', has_where: true },
    ]);
    expect(one('DELETE FROM orders').writes[0]?.has_where).toBe(false);
    expect(one('DELETE FROM orders WHERE 1=1').writes[0]?.has_where).toBe(false);
  });

  it('DELETE ... USING reads the other table', () => {
    expect(
      reads('DELETE FROM orders o USING customers c WHERE o.cid = c.id AND c.blocked'),
    ).toEqual({
      'public.orders': ['cid'],
      'public.customers': ['blocked', 'id'],
    });
  });

  it('WHERE CURRENT OF counts as a WHERE', () => {
    expect(one('DELETE FROM orders WHERE CURRENT OF cur').writes[0]?.has_where).toBe(true);
  });

  it('MERGE writes the target and reads the source', () => {
    const f = one(
      'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id) WHEN MATCHED AND s.gone THEN DELETE',
    );
    expect(f.command).toBe('MERGE');
    expect(f.writes).toEqual([
      { schema: 'public', table: 't', action: 'merge', has_where: true, columns: ['a', 'id'] },
    ]);
    expect(f.reads.find((r) => r.table === 's')?.columns).toEqual(['a', 'gone', 'id']);
  });

  it('MERGE ... ON true has no WHERE', () => {
    expect(one('MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE').writes[0]?.has_where).toBe(
      false,
    );
  });
});
