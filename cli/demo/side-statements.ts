// Which statements the demo database may run inside another connection's open transaction: those
// that read only the system catalogs, set search_path, or EXPLAIN without ANALYZE. They are what the
// gateway's own side connections send (column origins for masking, row estimates) while a client's
// session holds a transaction open on the one PGlite backend (docs/adr/0004-demo-database.md).

import { loadModule, parseSync } from 'libpg-query';

const CATALOG_SCHEMAS = new Set(['pg_catalog', 'information_schema']);
/** Parse-tree nodes and fields that write, lock, create or run code: never a side statement. */
const WRITING_NODES = new Set([
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
  'FuncCall',
  'IntoClause',
  'intoClause',
  'LockingClause',
  'lockingClause',
]);

/** True when every node of the tree is harmless and every relation is a catalog. */
function catalogOnly(node: unknown): boolean {
  if (Array.isArray(node)) return node.every(catalogOnly);
  if (node === null || typeof node !== 'object') return true;
  for (const [key, value] of Object.entries(node)) {
    if (WRITING_NODES.has(key)) return false;
    if (key === 'RangeVar') {
      const schema = (value as { schemaname?: unknown }).schemaname;
      if (typeof schema !== 'string' || !CATALOG_SCHEMAS.has(schema)) return false;
    }
    if (!catalogOnly(value)) return false;
  }
  return true;
}

function sideStatement(stmt: Record<string, unknown>): boolean {
  const [kind, body] = Object.entries(stmt)[0] ?? [];
  switch (kind) {
    case 'ExplainStmt': {
      // EXPLAIN plans without executing; ANALYZE would execute the statement.
      const options = ((body as { options?: unknown[] }).options ?? []) as {
        DefElem?: { defname?: string };
      }[];
      return !options.some((o) => o.DefElem?.defname === 'analyze');
    }
    case 'VariableSetStmt':
      return (body as { name?: unknown }).name === 'search_path';
    case 'SelectStmt':
      return catalogOnly(body);
    default:
      return false;
  }
}

/** Loads the parser once; the returned check is synchronous. Anything unparsable is not a side statement. */
export async function createSideStatementCheck(): Promise<(sql: string) => boolean> {
  await loadModule();
  return (sql) => {
    try {
      const stmts = (parseSync(sql) as { stmts?: { stmt?: Record<string, unknown> }[] }).stmts;
      return (
        stmts !== undefined &&
        stmts.length > 0 &&
        stmts.every((s) => s.stmt !== undefined && sideStatement(s.stmt))
      );
    } catch {
      return false;
    }
  };
}
