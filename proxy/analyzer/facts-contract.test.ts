// The analyzer's output is the policy input contract: every fact it produces validates against
// `definitions.statementFacts` (predicate_columns included), its flag list is exactly the schema's
// enum, and its output lineage has the documented shape.
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import inputSchema from '../../schemas/policy-input.schema.json' with { type: 'json' };
import { createAnalyzer, loadAnalyzer } from './analyzer.js';
import { FLAGS } from './facts.js';

beforeAll(async () => {
  await loadAnalyzer();
});

const CORPUS = [
  '',
  'BEGIN',
  'SELECT * FROM "Public"."Customers" c JOIN orders o USING (id) WHERE c.ssn LIKE $1',
  'WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d',
  'INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = excluded.a RETURNING *',
  "UPDATE t SET a = 1; SET search_path = x; SELECT set_config('role', 'r', true)",
  'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE',
  "COPY t TO PROGRAM 'x'; COPY t FROM STDIN; COPY (SELECT 1) TO STDOUT",
  'PREPARE p AS SELECT 1; EXECUTE p; DEALLOCATE p',
  'DECLARE c CURSOR FOR SELECT 1; FETCH c; CLOSE c',
  'EXPLAIN ANALYZE SELECT 1; SELECT 1 INTO x; CREATE TABLE y AS SELECT 1',
  'DO $$ BEGIN END $$; CALL p(); LISTEN x; NOTIFY x; VACUUM; GRANT SELECT ON t TO u; TRUNCATE t',
  "ALTER SYSTEM SET x = 1; LOAD 'x'; CREATE TABLE z (a int); DROP TABLE z; DISCARD ALL",
  'SELECT pg_read_file($1), dblink($1), pg_terminate_backend(1) FROM pg_class FOR UPDATE',
  "SELECT c.name, row_to_json(c) FROM customers c JOIN orders o USING (id) WHERE c.ssn LIKE '1%' GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 2",
  'SELECT DISTINCT ON (region) rank() OVER (PARTITION BY region ORDER BY salary) FROM staff',
  'SELECT (',
  `SELECT ${'('.repeat(2000)}1${')'.repeat(2000)}`,
];

describe('facts contract', () => {
  it('FLAGS is the schema flag enum', () => {
    expect([...FLAGS]).toEqual(inputSchema.definitions.flag.enum);
  });

  it('every statement of the corpus validates against definitions.statementFacts', () => {
    const ajv = new Ajv({
      allErrors: true,
      strict: true,
      allowUnionTypes: true,
      validateFormats: false,
    });
    ajv.addSchema(inputSchema);
    const validate = ajv.getSchema(`${inputSchema.$id}#/definitions/statementFacts`);
    if (validate === undefined) throw new Error('statementFacts did not compile');
    const analyzer = createAnalyzer();
    const ctx = { searchPath: ['public'], prepared: () => undefined, cursors: () => undefined };
    let count = 0;
    for (const sql of CORPUS) {
      for (const s of analyzer.analyze(sql, ctx).statements) {
        for (const f of [s.facts, ...s.effects.flatMap((e) => ('facts' in e ? [e.facts] : []))]) {
          count++;
          expect(
            validate(JSON.parse(JSON.stringify(f))),
            `${sql}: ${JSON.stringify(validate.errors)}`,
          ).toBe(true);
        }
      }
    }
    expect(count).toBeGreaterThan(30);
  });

  it('predicate_columns is an optional array of qualified column names', () => {
    const def = inputSchema.definitions.statementFacts;
    expect(def.required).not.toContain('predicate_columns');
    expect(def.properties.predicate_columns.type).toBe('array');
  });

  it('predicate columns and output sources are schema.table.column or schema.table.*', () => {
    const analyzer = createAnalyzer();
    const ctx = { searchPath: ['public'], prepared: () => undefined, cursors: () => undefined };
    const qualified = /^[^.]*\.[^.]+\.[^.]+$/;
    let predicates = 0;
    let outputs = 0;
    for (const sql of CORPUS) {
      for (const s of analyzer.analyze(sql, ctx).statements) {
        for (const c of s.facts.predicate_columns) {
          predicates++;
          expect(c).toMatch(qualified);
        }
        for (const o of s.outputs ?? []) {
          outputs++;
          if (o.kind === 'column') expect(o.source).toMatch(qualified);
          else if (o.kind === 'derived') for (const x of o.sources) expect(x).toMatch(qualified);
          else if (o.kind === 'star') expect(o.table).toMatch(/^[^.]*\.[^.]+$/);
          else expect(o).toEqual({ kind: 'opaque' });
        }
      }
    }
    expect(predicates).toBeGreaterThan(5);
    expect(outputs).toBeGreaterThan(5);
  });
});
