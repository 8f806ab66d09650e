// Masking table: aggregates, windows, subqueries, CTEs, derived tables, set operations and LATERAL.
import { type MaskCase, refused, rows } from './case.js';

const INFERENCE = 'masking.inference';

export const AGGREGATE_ROWS: readonly MaskCase[] = [
  rows(
    'aggregates',
    'SELECT max(ssn), min(email), count(ssn), count(*), count(DISTINCT phone), min(score) FROM customers',
    'RRNKNK',
    { note: 'count(col) of a masked column is derived from it: NULL' },
  ),
  rows(
    'string-agg',
    "SELECT string_agg(ssn, ', ' ORDER BY id), string_agg(name, ', ' ORDER BY id) FROM customers",
    'RK',
  ),
  rows(
    'array-agg',
    'SELECT array_agg(phone ORDER BY id), array_agg(id ORDER BY id) FROM customers',
    'NK',
  ),
  rows(
    'json-agg',
    'SELECT json_agg(email ORDER BY id), jsonb_agg(notes ORDER BY id), json_agg(name ORDER BY id) FROM customers',
    'NNK',
  ),
  rows(
    'group-by-unmasked',
    'SELECT score > 90 AS high, max(ssn), count(*), min(card_number) FROM customers GROUP BY 1 ORDER BY 1',
    'KRKR',
  ),
  rows(
    'aggregate-filter-unmasked',
    'SELECT count(*) FILTER (WHERE score > 90), max(ssn) FILTER (WHERE id > 1) FROM customers',
    'KR',
  ),
  rows(
    'window-functions',
    'SELECT id, first_value(ssn) OVER (ORDER BY id), lag(email) OVER (ORDER BY id), row_number() OVER (ORDER BY id), count(notes) OVER () FROM customers ORDER BY id',
    'KRRKN',
  ),
];

export const SUBQUERY_ROWS: readonly MaskCase[] = [
  rows(
    'scalar-subquery',
    'SELECT id, (SELECT d.ssn FROM customers d WHERE d.id = c.id) FROM customers c ORDER BY id',
    'KR',
  ),
  rows(
    'scalar-subquery-aggregate',
    'SELECT (SELECT max(email) FROM customers), (SELECT count(*) FROM orders)',
    'RK',
  ),
  rows(
    'exists-unmasked',
    'SELECT c.id, c.name, c.ssn FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id) ORDER BY c.id',
    'KKR',
  ),
  rows(
    'in-subquery-unmasked',
    'SELECT name, email FROM customers WHERE id IN (SELECT customer_id FROM orders) ORDER BY id',
    'KE',
  ),
  refused(
    'exists-masked-predicate',
    "SELECT id FROM customers c WHERE EXISTS (SELECT 1 FROM customers d WHERE d.ssn LIKE '0%' AND d.id = c.id)",
    INFERENCE,
  ),
  refused(
    'in-subquery-masked',
    'SELECT id FROM customers WHERE ssn IN (SELECT ssn FROM customers WHERE id = 2)',
    INFERENCE,
  ),
  rows(
    'cte',
    'WITH c AS (SELECT id, ssn, name FROM customers) SELECT ssn, name FROM c ORDER BY id',
    'RK',
  ),
  rows(
    'cte-nested',
    'WITH a AS (SELECT id, email AS e FROM customers), b AS (SELECT id, upper(e) AS ue FROM a) SELECT b.ue, a.e, a.id FROM b JOIN a USING (id) ORDER BY a.id',
    'REK',
  ),
  rows(
    'cte-recursive',
    'WITH RECURSIVE r(n, s) AS (SELECT 1, ssn FROM customers WHERE id = 1 UNION ALL SELECT n + 1, s FROM r WHERE n < 3) SELECT n, s FROM r',
    'NR',
    { note: 'the lineage of a recursive CTE is not established: every output is masked' },
  ),
  rows(
    'derived-table',
    'SELECT t.x, t.y FROM (SELECT ssn AS x, name AS y, id FROM customers) t ORDER BY t.id',
    'RK',
  ),
  rows(
    'derived-table-expression',
    "SELECT t.k, t.id FROM (SELECT 'k-' || card_number AS k, id FROM customers) t ORDER BY t.id",
    'RK',
  ),
  rows(
    'union-all-masked-second',
    'SELECT id, name FROM customers UNION ALL SELECT id, ssn FROM customers ORDER BY 1',
    'KR',
    { note: 'a set-operation output is masked when any branch feeds it a masked column' },
  ),
  rows(
    'union-all-masked-first',
    "SELECT email, id FROM customers UNION ALL SELECT 'x', id FROM orders ORDER BY 2",
    'RK',
  ),
  rows(
    'union-all-unmasked',
    "SELECT id, name FROM customers UNION ALL SELECT id, 'order' FROM orders ORDER BY 1, 2",
    'KK',
  ),
  rows(
    'union-partial-column',
    'SELECT id, phone FROM customers UNION SELECT id, name FROM customers WHERE id = 1 ORDER BY 1',
    'KR',
    { note: 'UNION compares phone (partial: not inference-protected); the output is masked' },
  ),
  rows(
    'intersect-hash-column',
    'SELECT card_number FROM customers INTERSECT SELECT card_number FROM orders',
    'R',
  ),
  rows(
    'except-unmasked',
    'SELECT id FROM customers EXCEPT SELECT customer_id FROM orders ORDER BY 1',
    'K',
  ),
  rows(
    'lateral-subquery',
    'SELECT c.id, l.s FROM customers c, LATERAL (SELECT c.ssn AS s) l ORDER BY c.id',
    'KR',
  ),
  rows(
    'lateral-function',
    'SELECT c.id, u FROM customers c CROSS JOIN LATERAL unnest(ARRAY[c.email, c.name]) u ORDER BY c.id',
    'KR',
  ),
  rows(
    'join-unmasked',
    'SELECT c.name, o.total, c.phone FROM customers c JOIN orders o ON o.customer_id = c.id ORDER BY o.id',
    'KKP',
  ),
];
