// Masking table: inference protection. A predicate on a column masked with redact or null (and, in
// this policy, email) is refused with masking.inference; hash and partial columns stay usable.
import { type MaskCase, refused, rows } from './case.js';

const R = 'masking.inference';

export const INFERENCE_ROWS: readonly MaskCase[] = [
  refused('where-like', "SELECT id FROM customers WHERE ssn LIKE '1%'", R),
  refused('order-by', 'SELECT id, name FROM customers ORDER BY ssn', R),
  refused('group-by', 'SELECT count(*) FROM customers GROUP BY ssn', R),
  refused('join-on-email', 'SELECT a.id FROM customers a JOIN customers b ON a.email = b.email', R),
  refused('order-by-output-alias', 'SELECT ssn AS x FROM customers ORDER BY x', R),
  refused('order-by-position', 'SELECT id, notes FROM customers ORDER BY 2', R),
  refused('having', "SELECT count(*) FROM customers HAVING max(notes) > 'A'", R),
  refused(
    'window-partition',
    'SELECT row_number() OVER (PARTITION BY date_of_birth) FROM customers',
    R,
  ),
  refused('distinct-on', 'SELECT DISTINCT ON (ssn) id FROM customers', R),
  refused('aggregate-filter', "SELECT count(*) FILTER (WHERE ssn LIKE '0%') FROM customers", R),
  refused(
    'derived-column-predicate',
    "SELECT 1 FROM (SELECT ssn AS x FROM customers) s WHERE s.x LIKE '0%'",
    R,
  ),
  refused('case-in-where', "SELECT id FROM customers WHERE CASE WHEN ssn > '2' THEN true END", R),
  refused(
    'limit-subquery',
    "SELECT id FROM customers LIMIT (SELECT count(*) FROM customers WHERE notes LIKE 'A%')",
    R,
  ),
  refused('distinct', "SELECT DISTINCT ssn = '078-05-1120' FROM customers", R),
  refused('intersect-constant', "SELECT ssn FROM customers INTERSECT SELECT '078-05-1120'", R),
  refused('except', 'SELECT id, notes FROM customers EXCEPT SELECT id, name FROM customers', R),
  refused('union-distinct', "SELECT ssn FROM customers UNION SELECT '078-05-1120'", R),
  refused('update-where-masked', "UPDATE customers SET score = score WHERE ssn = '078-05-1120'", R),
  refused('where-on-email', "SELECT id FROM customers WHERE email LIKE 'ada%'", R),
  rows(
    'join-on-hash-column',
    'SELECT c.id, o.total, c.card_number FROM customers c JOIN orders o ON o.card_number = c.card_number ORDER BY o.id',
    'KKH',
    { note: 'inference protection is off for hash: the keyed hash exists so joins keep working' },
  ),
  rows(
    'where-on-partial-column',
    "SELECT id, phone FROM customers WHERE phone LIKE '+44%' ORDER BY id",
    'KP',
    {
      note: 'inference protection is off for partial by default',
    },
  ),
];
