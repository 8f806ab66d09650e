// Dispatch over statement node types: each known type yields its command tag and facts; any
// other type yields UNKNOWN with the `unknown_node` flag (fail closed).
import type {
  AlterSystemStmt,
  CallStmt,
  ClosePortalStmt,
  CopyStmt,
  CreateTableAsStmt,
  DeallocateStmt,
  DeclareCursorStmt,
  DeleteStmt,
  DiscardStmt,
  ExecuteStmt,
  ExplainStmt,
  FetchStmt,
  GrantRoleStmt,
  GrantStmt,
  InsertStmt,
  MergeStmt,
  NotifyStmt,
  PrepareStmt,
  RangeVar,
  SelectStmt,
  TransactionStmt,
  UpdateStmt,
  VacuumStmt,
  VariableSetStmt,
} from 'libpg-query';
import {
  type AstObject,
  nodeType,
  type QueryShape,
  type Scope,
  strings,
  unwrap,
  type Walker,
} from './builder.js';
import type { OutputLineage } from './facts.js';
import { exportSlots, unknownSlots } from './lineage.js';
import { isCatalogSchema, resolveCreation, resolveFunction, resolveRelation } from './names.js';
import { ddlCommand, walkDdl } from './walk-ddl.js';
import { walkDelete, walkInsert, walkMerge, walkUpdate } from './walk-dml.js';
import { walkExpr } from './walk-expr.js';
import { walkSelect } from './walk-select.js';
import { describeSet, walkSet } from './walk-set.js';
import {
  walkClose,
  walkCopy,
  walkDeallocate,
  walkDeclare,
  walkDiscard,
  walkExecute,
  walkExplain,
  walkFetch,
  walkPrepare,
} from './walk-utility.js';

/**
 * Walks any query-shaped node; the `query` hook of every walker. A query is a value boundary: the
 * expressions being walked around it see only what its outputs and predicates yield.
 */
export function walkQuery(
  w: Walker,
  node: unknown,
  scope: Scope | null,
  depth: number,
): QueryShape {
  const sinks = w.b.sinks;
  w.b.sinks = [];
  try {
    return walkQueryNode(w, node, scope, depth);
  } finally {
    w.b.sinks = sinks;
  }
}

function walkQueryNode(w: Walker, node: unknown, scope: Scope | null, depth: number): QueryShape {
  if (depth > w.maxDepth) {
    w.b.flag('too_deep');
    return { names: null, slots: unknownSlots() };
  }
  const type = nodeType(node);
  const v = type === undefined ? undefined : (node as AstObject)[type];
  switch (type) {
    case 'SelectStmt':
      return walkSelect(w, v as SelectStmt, scope, depth);
    case 'InsertStmt':
      return walkInsert(w, v as InsertStmt, scope, depth);
    case 'UpdateStmt':
      return walkUpdate(w, v as UpdateStmt, scope, depth);
    case 'DeleteStmt':
      return walkDelete(w, v as DeleteStmt, scope, depth);
    case 'MergeStmt':
      return walkMerge(w, v as MergeStmt, scope, depth);
    default:
      w.b.flag('unknown_node');
      return { names: null, slots: unknownSlots() };
  }
}

/** Outputs of statements whose rows carry no table data (SHOW, EXPLAIN): one constant column. */
const CONSTANT_ROW: readonly OutputLineage[] = Object.freeze([
  Object.freeze({ kind: 'derived', sources: Object.freeze([]) }),
]);
/** CALL: OUT parameters of a procedure the analyzer cannot see into. */
const OPAQUE_ROW: readonly OutputLineage[] = Object.freeze([Object.freeze({ kind: 'opaque' })]);

const TRANSACTION_TAGS: Readonly<Record<string, string>> = {
  TRANS_STMT_BEGIN: 'BEGIN',
  TRANS_STMT_START: 'START TRANSACTION',
  TRANS_STMT_COMMIT: 'COMMIT',
  TRANS_STMT_ROLLBACK: 'ROLLBACK',
  TRANS_STMT_SAVEPOINT: 'SAVEPOINT',
  TRANS_STMT_RELEASE: 'RELEASE',
  TRANS_STMT_ROLLBACK_TO: 'ROLLBACK',
  TRANS_STMT_PREPARE: 'PREPARE TRANSACTION',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT PREPARED',
  TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK PREPARED',
};

const MAINTENANCE_TAGS: Readonly<Record<string, string>> = {
  ClusterStmt: 'CLUSTER',
  ReindexStmt: 'REINDEX',
  CheckPointStmt: 'CHECKPOINT',
  RefreshMatViewStmt: 'REFRESH MATERIALIZED VIEW',
};

const DML_TAGS: Readonly<Record<string, string>> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
};

function relationObject(w: Walker, rv: RangeVar | undefined, kind = 'table'): void {
  if (rv === undefined) return;
  const r = resolveRelation(rv.schemaname, rv.relname ?? '', w.path);
  if (isCatalogSchema(r.schema)) w.b.flag('system_catalog');
  w.b.object(kind, `${r.schema}.${r.table}`);
}

function roleObjects(w: Walker, list: readonly unknown[] | undefined): void {
  for (const r of list ?? []) {
    const spec = unwrap<{ rolename?: string; roletype?: string }>(r, 'RoleSpec');
    const priv = unwrap<{ priv_name?: string }>(r, 'AccessPriv');
    const name =
      spec?.rolename ?? priv?.priv_name ?? spec?.roletype?.replace(/^ROLESPEC_/, '').toLowerCase();
    if (name !== undefined) w.b.object('role', name);
  }
}

function walkGrant(w: Walker, g: GrantStmt): string {
  w.b.flag('grant_revoke');
  const kind = (g.objtype ?? 'OBJECT_TABLE').replace(/^OBJECT_/, '').toLowerCase();
  for (const o of g.objects ?? []) {
    const rv = unwrap<RangeVar>(o, 'RangeVar');
    if (rv !== undefined) relationObject(w, rv, kind);
    const owa = unwrap<{ objname?: unknown[] }>(o, 'ObjectWithArgs');
    if (owa !== undefined) w.b.object(kind, resolveFunction(strings(owa.objname), w.path));
    const s = unwrap<{ sval?: string }>(o, 'String')?.sval;
    if (s !== undefined) w.b.object(g.targtype === 'ACL_TARGET_ALL_IN_SCHEMA' ? 'schema' : kind, s);
  }
  roleObjects(w, g.grantees);
  return g.is_grant ? 'GRANT' : 'REVOKE';
}

function walkCreateTableAs(w: Walker, c: CreateTableAsStmt, depth: number): string {
  w.b.flag('create_table_as');
  w.b.flag('ddl');
  if (c.is_select_into) w.b.flag('select_into');
  // CREATE TABLE ... AS EXECUTE p runs a prepared statement.
  if (nodeType(c.query) === 'ExecuteStmt') w.statement(w, c.query, depth + 1);
  else w.query(w, c.query, null, depth + 1);
  // The rows go into the new table, not to the client.
  w.b.outputs = null;
  const rel = c.into?.rel;
  const r = resolveCreation(
    rel?.schemaname,
    rel?.relname ?? '',
    rel?.relpersistence === 't',
    w.path,
  );
  w.b.write(r.schema, r.table, 'insert', false, null);
  const matview = c.objtype === 'OBJECT_MATVIEW';
  w.b.object(matview ? 'matview' : 'table', `${r.schema}.${r.table}`);
  if (c.is_select_into) return 'SELECT INTO';
  return matview ? 'CREATE MATERIALIZED VIEW' : 'CREATE TABLE AS';
}

/** Walks one statement into `w.b`; returns its command tag. */
export function walkStatement(w: Walker, node: unknown, depth: number): string {
  if (depth > w.maxDepth) {
    w.b.flag('too_deep');
    return 'UNKNOWN';
  }
  const type = nodeType(node);
  const v = (type === undefined ? {} : (node as AstObject)[type]) as AstObject;
  switch (type) {
    case 'SelectStmt': {
      const shape = walkQuery(w, node, null, depth);
      if (v.intoClause !== undefined) return 'SELECT INTO';
      w.b.outputs = exportSlots(shape.slots);
      return 'SELECT';
    }
    case 'InsertStmt':
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'MergeStmt':
      w.b.outputs = exportSlots(walkQuery(w, node, null, depth).slots);
      return DML_TAGS[type] ?? 'UNKNOWN';
    case 'VariableSetStmt':
      return walkSet(w, v as VariableSetStmt);
    case 'VariableShowStmt':
      w.b.object('setting', String(v.name ?? 'all').toLowerCase());
      w.b.outputs = CONSTANT_ROW;
      return 'SHOW';
    case 'TransactionStmt':
      w.b.flag('transaction_control');
      return TRANSACTION_TAGS[(v as TransactionStmt).kind ?? ''] ?? 'UNKNOWN';
    case 'CopyStmt':
      return walkCopy(w, v as CopyStmt, depth);
    case 'ExplainStmt': {
      const tag = walkExplain(w, v as ExplainStmt, depth);
      // The plan names columns and shows the query's literals, never stored values.
      w.b.outputs = CONSTANT_ROW;
      return tag;
    }
    case 'PrepareStmt':
      return walkPrepare(w, v as PrepareStmt, depth);
    case 'ExecuteStmt':
      return walkExecute(w, v as ExecuteStmt, depth);
    case 'DeallocateStmt':
      return walkDeallocate(w, v as DeallocateStmt);
    case 'DeclareCursorStmt':
      return walkDeclare(w, v as DeclareCursorStmt, depth);
    case 'FetchStmt':
      return walkFetch(w, v as FetchStmt);
    case 'ClosePortalStmt':
      return walkClose(w, v as ClosePortalStmt);
    case 'DiscardStmt':
      return walkDiscard(w, v as DiscardStmt);
    case 'DoStmt':
      w.b.flag('do_block');
      return 'DO';
    case 'CallStmt': {
      w.b.flag('call');
      const c = v as CallStmt;
      if (c.funccall !== undefined) walkExpr(w, { FuncCall: c.funccall }, null, depth + 1);
      w.b.outputs = OPAQUE_ROW;
      return 'CALL';
    }
    case 'ListenStmt':
    case 'UnlistenStmt':
    case 'NotifyStmt': {
      w.b.flag('listen_notify');
      w.b.object('channel', (v as NotifyStmt).conditionname ?? '*');
      return type === 'ListenStmt' ? 'LISTEN' : type === 'NotifyStmt' ? 'NOTIFY' : 'UNLISTEN';
    }
    case 'VacuumStmt': {
      w.b.flag('maintenance');
      const vac = v as VacuumStmt;
      for (const r of vac.rels ?? []) {
        relationObject(w, unwrap<{ relation?: RangeVar }>(r, 'VacuumRelation')?.relation);
      }
      return vac.is_vacuumcmd ? 'VACUUM' : 'ANALYZE';
    }
    case 'TruncateStmt':
      for (const r of (v.relations as unknown[] | undefined) ?? []) {
        const rv = unwrap<RangeVar>(r, 'RangeVar');
        const t = resolveRelation(rv?.schemaname, rv?.relname ?? '', w.path);
        if (isCatalogSchema(t.schema)) w.b.flag('system_catalog');
        w.b.write(t.schema, t.table, 'truncate', false, null);
      }
      return 'TRUNCATE';
    case 'LockStmt':
      w.b.flag('locking_clause');
      for (const r of (v.relations as unknown[] | undefined) ?? []) {
        const rv = unwrap<RangeVar>(r, 'RangeVar');
        relationObject(w, rv);
        // Locking a table blocks its other users: it needs a grant on the table, as a read of no column.
        const t = resolveRelation(rv?.schemaname, rv?.relname ?? '', w.path);
        w.b.read(t.schema, t.table);
      }
      return 'LOCK TABLE';
    case 'GrantStmt':
      return walkGrant(w, v as GrantStmt);
    case 'GrantRoleStmt': {
      w.b.flag('grant_revoke');
      const g = v as GrantRoleStmt;
      roleObjects(w, g.granted_roles);
      roleObjects(w, g.grantee_roles);
      return g.is_grant ? 'GRANT ROLE' : 'REVOKE ROLE';
    }
    case 'AlterDefaultPrivilegesStmt':
      w.b.flag('grant_revoke');
      w.b.flag('ddl');
      return 'ALTER DEFAULT PRIVILEGES';
    case 'CreateTableAsStmt':
      return walkCreateTableAs(w, v as CreateTableAsStmt, depth);
    case 'AlterSystemStmt': {
      w.b.flag('alter_system');
      const set = (v as AlterSystemStmt).setstmt;
      if (set !== undefined) for (const s of describeSet(set)) w.b.setting(s);
      return 'ALTER SYSTEM';
    }
    case 'LoadStmt':
      w.b.flag('server_function');
      w.b.object('library', String(v.filename ?? ''));
      return 'LOAD';
    case 'ConstraintsSetStmt':
      return 'SET CONSTRAINTS';
    default:
      break;
  }
  if (type !== undefined) {
    const maintenance = MAINTENANCE_TAGS[type];
    if (maintenance !== undefined) {
      w.b.flag('maintenance');
      relationObject(w, v.relation as RangeVar | undefined);
      return maintenance;
    }
    const ddl = ddlCommand(type, v);
    if (ddl !== undefined) {
      // Settings stored for future sessions (ALTER ROLE/DATABASE ... SET) are still settings.
      const set = v.setstmt as VariableSetStmt | undefined;
      if (set !== undefined) for (const s of describeSet(set)) w.b.setting(s);
      return walkDdl(w, type, v, ddl, depth);
    }
  }
  // SECURITY: a statement type we do not know is denied, never guessed.
  w.b.flag('unknown_node');
  return 'UNKNOWN';
}
