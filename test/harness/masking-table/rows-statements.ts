// Masking table: cursors, SQL PREPARE/EXECUTE, RETURNING, failing writes and views.
import { fails, type MaskCase, refused, rows } from './case.js';
import { ALL_CODES } from './rows-columns.js';

export const STATEMENT_ROWS: readonly MaskCase[] = [
  rows('cursor', 'FETCH ALL FROM mt_cur', 'KRE', {
    before: ['BEGIN', 'DECLARE mt_cur CURSOR FOR SELECT id, ssn, email FROM customers ORDER BY id'],
    after: ['COMMIT'],
  }),
  rows('cursor-derived', 'FETCH 2 FROM mt_cur2', 'RK', {
    before: [
      'BEGIN',
      "DECLARE mt_cur2 NO SCROLL CURSOR FOR SELECT upper(ssn) || '!', name FROM customers ORDER BY id",
    ],
    after: ['COMMIT'],
  }),
  rows('cursor-with-hold', 'FETCH NEXT FROM mt_hold', ALL_CODES, {
    before: ['DECLARE mt_hold CURSOR WITH HOLD FOR SELECT * FROM customers ORDER BY id'],
    after: ['CLOSE mt_hold'],
  }),
  rows('sql-prepare-execute', 'EXECUTE mt_q(1)', 'KRP', {
    before: ['PREPARE mt_q(int) AS SELECT id, ssn, phone FROM customers WHERE id = $1'],
    after: ['DEALLOCATE mt_q'],
  }),
  rows('sql-prepare-derived', 'EXECUTE mt_q2', 'RK', {
    before: ["PREPARE mt_q2 AS SELECT concat(name, ' ', email), id FROM customers ORDER BY id"],
    after: ['DEALLOCATE mt_q2'],
  }),
  refused(
    'sql-prepare-masked-predicate',
    'PREPARE mt_q3(text) AS SELECT id FROM customers WHERE ssn = $1',
    'masking.inference',
  ),
  rows(
    'update-returning',
    'UPDATE customers SET score = score WHERE id = 1 RETURNING id, ssn, email, score',
    'KREK',
  ),
  rows(
    'update-returning-star',
    'UPDATE customers SET score = score WHERE id = 2 RETURNING *',
    ALL_CODES,
  ),
  rows(
    'delete-returning',
    'DELETE FROM customers WHERE id = 3 RETURNING id, upper(notes), card_number, date_of_birth',
    'KRHN',
    { before: ['BEGIN'], after: ['ROLLBACK'] },
  ),
  fails(
    'update-unique-violation',
    'UPDATE customers SET ssn = (SELECT ssn FROM customers WHERE id = 2) WHERE id = 1',
    '23505',
    { note: 'the key DETAIL would quote the other row ssn' },
  ),
  fails('update-not-null-violation', 'UPDATE customers SET name = NULL WHERE id = 1', '23502', {
    note: 'reads no masked column, but the DETAIL would quote the whole failing row',
  }),
  rows('view-with-its-own-masking', 'SELECT * FROM customers_v ORDER BY id', 'KKRE', {
    note: 'a view is a relation of its own: masked by the entries that name its columns',
  }),
  refused('view-not-granted', 'SELECT id, name FROM customers_raw_v', 'access.table', {
    note: 'a grant on customers does not cover a view over it',
  }),
];
