// Masking table: whole-row references and JSON built from masked columns.
import { type MaskCase, refused, rows } from './case.js';
import { ALL_CODES } from './rows-columns.js';

export const WHOLE_ROW_ROWS: readonly MaskCase[] = [
  rows('whole-row', 'SELECT c FROM customers c ORDER BY c.id', 'N'),
  rows('whole-row-as-text', 'SELECT c::text, c.id FROM customers c ORDER BY c.id', 'NK', {
    note: 'derived from every column, date_of_birth (null) included: NULL',
  }),
  rows('row-to-json', 'SELECT row_to_json(c) FROM customers c ORDER BY c.id', 'N'),
  rows('to-jsonb-star', 'SELECT to_jsonb(c.*) FROM customers c ORDER BY c.id', 'N'),
  rows(
    'field-selection',
    'SELECT (c).ssn, (c).name, (c).email FROM customers c ORDER BY c.id',
    'RKE',
  ),
  rows('composite-star', 'SELECT (c).* FROM customers c ORDER BY c.id', ALL_CODES),
  rows(
    'row-to-json-unmasked',
    'SELECT row_to_json(t) FROM (SELECT id, name FROM customers) t ORDER BY t.id',
    'K',
  ),
  rows(
    'json-build-object',
    "SELECT json_build_object('ssn', ssn, 'name', name), jsonb_build_object('id', id) FROM customers ORDER BY id",
    'NK',
  ),
  rows(
    'json-extract',
    "SELECT json_build_object('s', ssn) ->> 's', (to_jsonb(c) -> 'email') #>> '{}', to_json(c) ->> 'name' FROM customers c ORDER BY id",
    'RNN',
    {
      note: 'a value taken out of a whole row depends on every column, date_of_birth (null) included',
    },
  ),
  rows('jsonb-agg-rows', 'SELECT jsonb_agg(c ORDER BY c.id) FROM customers c', 'N'),
  rows(
    'json-each-text',
    'SELECT c.id, j.key, j.value FROM customers c, json_each_text(row_to_json(c)) j ORDER BY c.id',
    'KRR',
    { note: 'the columns of a function over a whole row cannot be told apart: all masked' },
  ),
  refused(
    'json-each-text-predicate',
    "SELECT j.value FROM customers c, json_each_text(row_to_json(c)) j WHERE j.key = 'ssn'",
    'masking.inference',
    { note: 'a predicate on such a column names every column of the row' },
  ),
];
