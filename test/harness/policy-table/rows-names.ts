// Names and lexing: quoting and case folding, unicode escapes, pg_temp, comments in odd places, and
// string, escape-string and dollar-quoted literals that contain DML (which must not count).
import { allowed, blocked, type PolicyRow } from './row.js';

const T = 'access.table';
const PARENS = 10_000;
const X = {} as const;

export const NAME_ROWS: readonly PolicyRow[] = [
  // Quoting and case.
  allowed('quoted-public-orders', 'SELECT count(*) FROM "public"."orders"', { subset: true }),
  allowed('upper-case-folds', 'SELECT count(*) FROM PUBLIC.ORDERS', { subset: true }),
  allowed('mixed-case-folds', 'select ID from Public.Orders where Id = 1'),
  allowed('unicode-escaped-schema', 'SELECT count(*) FROM U&"\\0070ublic".orders', {
    subset: true,
  }),
  allowed('quoted-alias-like-dml', 'SELECT 1 AS "delete", 2 AS "; DROP TABLE orders; --"'),
  blocked('quoted-case-is-another-table', 'SELECT * FROM "Orders"', T, {
    subset: true,
    note: '"Orders" is not orders',
  }),
  blocked('quoted-capital-schema-and-table', 'SELECT * FROM "Public"."Orders"', T, X),
  blocked('quoted-upper-table', 'SELECT * FROM public."ORDERS"', T, X),
  blocked('quoted-secrets', 'SELECT * FROM "secrets"', T),
  blocked('unicode-escaped-secrets', 'SELECT * FROM U&"s\\0065crets"', T, { subset: true }),
  blocked('unicode-uescape-secrets', 'SELECT * FROM U&"!0073ecrets" UESCAPE \'!\'', T),
  blocked('pg-temp-qualified', 'SELECT * FROM pg_temp.orders', T, {
    ...X,
    subset: true,
    note: 'pg_temp.orders is not public.orders',
  }),
  blocked('pg-temp-qualified-write', 'DELETE FROM pg_temp.orders WHERE id = 1', T, X),
  blocked('odd-whitespace', 'SELECT\t*\nFROM\r\n\tsecrets\f', T),

  // Comments in odd places.
  blocked('comment-glued-to-table', 'SELECT * FROM/**/secrets', T, { subset: true }),
  blocked('comment-inside-qualified-name', 'SELECT * FROM public/* x */./* y */secrets', T),
  blocked(
    'comments-in-delete',
    'DELETE /* a */ FROM /* b */ secrets /* c */ WHERE /* d */ id = 1',
    T,
  ),
  allowed(
    'nested-block-comment-hides-dml',
    '/* outer /* inner */ still a comment; DELETE FROM orders */ SELECT count(*) FROM orders',
    { subset: true },
  ),
  allowed('line-comment-hides-dml', 'SELECT count(*) FROM orders -- ; DELETE FROM orders', {
    subset: true,
  }),
  blocked(
    'line-comment-ends-at-newline',
    'SELECT 1 -- comment\n; DELETE FROM secrets WHERE id = 1',
    T,
    {
      multi: true,
    },
  ),
  allowed('comment-only', '/* nothing to run */', {
    skip: { psycopg: 'psycopg refuses an empty query client-side' },
  }),

  // Literals that contain DML.
  allowed('string-with-dml', "SELECT 'DELETE FROM orders; DROP TABLE secrets' AS s", {
    subset: true,
  }),
  allowed('string-doubled-quote', "SELECT 'it''s; DELETE FROM secrets' AS s"),
  allowed('escape-string-quote', "SELECT E'\\'; DELETE FROM secrets; --' AS s", {
    subset: true,
    note: "in E'' a backslash escapes the quote, so the DELETE is inside the literal",
  }),
  blocked('standard-string-backslash', "SELECT '\\'; DELETE FROM secrets WHERE id = 1; --'", T, {
    multi: true,
    note: "standard_conforming_strings is on: '\\' is a complete literal and the DELETE is real",
  }),
  allowed('unicode-string-with-dml', "SELECT U&'\\0044ELETE FROM secrets' AS s"),
  allowed('dollar-quoted-dml', 'SELECT $$DELETE FROM orders; DROP TABLE secrets$$ AS s', {
    subset: true,
  }),
  allowed('dollar-tag-with-inner-dollars', 'SELECT $x$ $$ ; DELETE FROM secrets; $$ $x$ AS s'),
  blocked(
    'dollars-inside-identifier',
    'SELECT 1 AS a$$, 2 AS b; DELETE FROM secrets WHERE id = 1; SELECT 3 AS c$$',
    T,
    {
      multi: true,
      note: 'a$$ is an identifier, not the start of a dollar quote',
    },
  ),
  allowed('quoted-identifier-with-dml', 'SELECT 1 AS "; DELETE FROM secrets; --"'),
  allowed('parens-inside-string', `SELECT '${'('.repeat(PARENS)}' AS s`, {
    subset: true,
    note: 'parentheses in a literal are not nesting',
  }),
  allowed('empty-statements-between', 'SELECT 1;;; SELECT count(*) FROM orders', { multi: true }),
  allowed('trailing-semicolon', 'SELECT count(*) FROM orders;'),
];
