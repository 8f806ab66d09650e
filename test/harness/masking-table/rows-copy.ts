// Masking table: COPY ... TO STDOUT in text, CSV and binary, of a table, a column list and a query.
import { copyOut, fails, type MaskCase, refused } from './case.js';
import { ALL_CODES } from './rows-columns.js';

export const COPY_ROWS: readonly MaskCase[] = [
  copyOut('copy-table-text', 'COPY customers TO STDOUT', 'text', ALL_CODES),
  copyOut(
    'copy-table-csv-header',
    'COPY customers TO STDOUT WITH (FORMAT csv, HEADER true)',
    'csv',
    ALL_CODES,
  ),
  copyOut('copy-table-binary', 'COPY customers TO STDOUT (FORMAT binary)', 'binary', ALL_CODES),
  copyOut(
    'copy-column-list-csv',
    'COPY customers (id, ssn, phone, email, card_number) TO STDOUT (FORMAT csv)',
    'csv',
    'KRPEH',
  ),
  copyOut(
    'copy-column-list-binary',
    'COPY customers (name, notes, score) TO STDOUT (FORMAT binary)',
    'binary',
    'KNK',
  ),
  copyOut(
    'copy-query-text',
    'COPY (SELECT id, upper(ssn), email, name FROM customers ORDER BY id) TO STDOUT',
    'text',
    'KREK',
  ),
  copyOut(
    'copy-query-binary',
    'COPY (SELECT id, ssn, date_of_birth, created_at FROM customers ORDER BY id) TO STDOUT WITH (FORMAT binary)',
    'binary',
    'KNNK',
  ),
  copyOut(
    'copy-query-whole-row-csv',
    'COPY (SELECT c.id, row_to_json(c) FROM customers c ORDER BY c.id) TO STDOUT (FORMAT csv)',
    'csv',
    'KN',
  ),
  {
    ...fails('copy-query-cast-error', 'COPY (SELECT ssn::int FROM customers) TO STDOUT', '22P02'),
    copy: 'text',
    skip: {
      'postgres.js simple':
        'postgres.js destroys its COPY stream before it can be listened to when the error arrives with CopyOutResponse (an uncaught error)',
    },
  },
  {
    ...refused(
      'copy-query-masked-predicate',
      "COPY (SELECT id FROM customers WHERE ssn LIKE '0%') TO STDOUT",
      'masking.inference',
    ),
    copy: 'text',
  },
];
