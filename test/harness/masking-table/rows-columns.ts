// Masking table: plain references, aliases, casts and scalar expressions over masked columns.
import { fails, type MaskCase, rows } from './case.js';

const ALL = 'id, name, score, created_at, ssn, email, phone, card_number, date_of_birth, notes';
/** The codes of ALL: unmasked id, name, score, created_at; then each column's own method. */
export const ALL_CODES = 'KKKK REPHNR';

export const COLUMN_ROWS: readonly MaskCase[] = [
  rows('all-columns', `SELECT ${ALL} FROM customers ORDER BY id`, ALL_CODES),
  rows('star', 'SELECT * FROM customers ORDER BY id', ALL_CODES),
  rows('qualified-star', 'SELECT c.* FROM customers c ORDER BY c.id', ALL_CODES),
  rows(
    'aliases',
    'SELECT ssn AS tax_id, email AS contact, name AS ssn FROM customers ORDER BY id',
    'REK',
  ),
  rows(
    'quoted-aliases',
    'SELECT c.ssn AS "Name", c.id AS "SSN", c.date_of_birth AS id FROM customers AS c ORDER BY c.id',
    'RKN',
  ),
  rows(
    'schema-qualified',
    'SELECT public.customers.phone, customers.card_number FROM public.customers ORDER BY id',
    'PH',
  ),
  rows(
    'cast-to-text',
    'SELECT ssn::text, phone::text, notes::varchar, card_number::text FROM customers ORDER BY id',
    'RRRH',
    {
      note: 'a cast to another type is a derived value, redacted as a whole; text to text is no cast at all, so card_number keeps its origin and its hash',
    },
  ),
  rows(
    'cast-function',
    'SELECT CAST(email AS varchar(80)), CAST(date_of_birth AS text), CAST(ssn AS char(3)) FROM customers ORDER BY id',
    'RNR',
  ),
  fails('cast-to-int-error', 'SELECT ssn::int FROM customers', '22P02', {
    note: 'PostgreSQL quotes the value in the message; the gateway withholds the text',
  }),
  fails('cast-to-json-error', 'SELECT notes::json FROM customers ORDER BY id', '22P02'),
  fails('cast-to-numeric-error', 'SELECT CAST(phone AS numeric) FROM customers', '22P02'),
  rows(
    'cast-to-int',
    "SELECT replace(ssn, '-', '')::bigint, to_char(date_of_birth, 'YYYY')::int FROM customers ORDER BY id",
    'NN',
  ),
  rows(
    'cast-unmasked',
    'SELECT CAST(score AS text), id::bigint, created_at::date, name::varchar(5) FROM customers ORDER BY id',
    'KKKK',
  ),
  rows(
    'date-arithmetic',
    "SELECT date_of_birth + 1, extract(year FROM date_of_birth), age(date_of_birth, '2000-01-01') FROM customers ORDER BY id",
    'NNN',
  ),
  rows('concat-operator', "SELECT name || ': ' || ssn, id FROM customers ORDER BY id", 'RK'),
  rows(
    'format',
    "SELECT format('%s <%s>', name, email), format('%L', notes), format('%s', id) FROM customers ORDER BY id",
    'RRK',
  ),
  rows(
    'concat-functions',
    "SELECT concat(ssn, '/', phone), concat_ws(',', id, notes, card_number), concat(name, id) FROM customers ORDER BY id",
    'RRK',
  ),
  rows(
    'substrings',
    'SELECT substr(ssn, 1, 3), left(card_number, 4), right(phone, 4), substring(email FROM 2 FOR 5), overlay(ssn PLACING $$x$$ FROM 1 FOR 1) FROM customers ORDER BY id',
    'RRRRR',
  ),
  rows(
    'case-and-hash-functions',
    'SELECT upper(email), lower(notes), initcap(ssn), md5(ssn), sha256(convert_to(ssn, $$UTF8$$)) FROM customers ORDER BY id',
    'RRRRN',
  ),
  rows(
    'string-transforms',
    "SELECT reverse(ssn), replace(ssn, '-', ''), translate(phone, ' +', ''), regexp_replace(card_number, '[^0-9]', '', 'g'), btrim(notes, 'P') FROM customers ORDER BY id",
    'RRRRR',
  ),
  rows(
    'lengths-and-positions',
    "SELECT length(ssn), octet_length(notes), position('@' IN email), ascii(ssn), strpos(phone, '44') FROM customers ORDER BY id",
    'NNNNN',
  ),
  rows(
    'encodings',
    "SELECT encode(convert_to(ssn, 'UTF8'), 'hex'), encode(convert_to(email, 'UTF8'), 'base64'), convert_to(notes, 'UTF8'), to_hex(ascii(ssn)) FROM customers ORDER BY id",
    'RRNR',
  ),
  rows(
    'split-and-arrays',
    "SELECT split_part(email, '@', 1), string_to_array(ssn, '-'), ARRAY[name, ssn], (string_to_array(phone, ' '))[2] FROM customers ORDER BY id",
    'RNNR',
  ),
  rows(
    'case-coalesce-greatest',
    "SELECT CASE WHEN id = 1 THEN ssn ELSE name END, coalesce(notes, name), nullif(phone, ''), greatest(ssn, email), CASE id WHEN 2 THEN 'x' ELSE card_number END FROM customers ORDER BY id",
    'RRRRR',
  ),
  rows(
    'comparisons-as-outputs',
    "SELECT ssn = '078-05-1120', email LIKE '%@navy.example', date_of_birth < '1900-01-01', id FROM customers ORDER BY id",
    'NNNK',
    { note: 'a comparison in the target list is a derived output (masked), not a predicate' },
  ),
  rows(
    'row-constructors',
    'SELECT ROW(id, ssn), (id, email), ROW(id, name) FROM customers ORDER BY id',
    'NNK',
  ),
  rows(
    'unmasked-expressions',
    'SELECT id * 2, upper(name), coalesce(score, 0) + 1, created_at, length(name) FROM customers ORDER BY id',
    'KKKKK',
  ),
];
