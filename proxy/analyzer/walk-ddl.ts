// DDL and other catalog-changing statements: command tag, `ddl` flag, the objects they name,
// and any query or function call buried in them (view bodies, defaults, rule actions).
import type { DropStmt } from 'libpg-query';
import { type AstObject, isWrapped, nodeType, strings, unwrap, type Walker } from './builder.js';
import { qualifyObject, resolveFunction, resolveRelation } from './names.js';
import { walkExpr } from './walk-expr.js';

const FIXED_TAGS: Readonly<Record<string, string>> = {
  CreateStmt: 'CREATE TABLE',
  CreateForeignTableStmt: 'CREATE FOREIGN TABLE',
  IndexStmt: 'CREATE INDEX',
  ViewStmt: 'CREATE VIEW',
  CreateSchemaStmt: 'CREATE SCHEMA',
  CreateSeqStmt: 'CREATE SEQUENCE',
  AlterSeqStmt: 'ALTER SEQUENCE',
  AlterRoleStmt: 'ALTER ROLE',
  AlterRoleSetStmt: 'ALTER ROLE',
  DropRoleStmt: 'DROP ROLE',
  CreateExtensionStmt: 'CREATE EXTENSION',
  AlterExtensionStmt: 'ALTER EXTENSION',
  AlterExtensionContentsStmt: 'ALTER EXTENSION',
  CreatedbStmt: 'CREATE DATABASE',
  DropdbStmt: 'DROP DATABASE',
  AlterDatabaseStmt: 'ALTER DATABASE',
  AlterDatabaseSetStmt: 'ALTER DATABASE',
  AlterDatabaseRefreshCollStmt: 'ALTER DATABASE',
  CreateTrigStmt: 'CREATE TRIGGER',
  CreateEventTrigStmt: 'CREATE EVENT TRIGGER',
  AlterEventTrigStmt: 'ALTER EVENT TRIGGER',
  RuleStmt: 'CREATE RULE',
  CreatePolicyStmt: 'CREATE POLICY',
  AlterPolicyStmt: 'ALTER POLICY',
  CreateDomainStmt: 'CREATE DOMAIN',
  AlterDomainStmt: 'ALTER DOMAIN',
  CreateEnumStmt: 'CREATE TYPE',
  CompositeTypeStmt: 'CREATE TYPE',
  CreateRangeStmt: 'CREATE TYPE',
  AlterEnumStmt: 'ALTER TYPE',
  AlterTypeStmt: 'ALTER TYPE',
  CreateCastStmt: 'CREATE CAST',
  CreateConversionStmt: 'CREATE CONVERSION',
  CreateTransformStmt: 'CREATE TRANSFORM',
  CreateOpClassStmt: 'CREATE OPERATOR CLASS',
  CreateOpFamilyStmt: 'CREATE OPERATOR FAMILY',
  AlterOpFamilyStmt: 'ALTER OPERATOR FAMILY',
  AlterOperatorStmt: 'ALTER OPERATOR',
  CreateAmStmt: 'CREATE ACCESS METHOD',
  CreatePLangStmt: 'CREATE LANGUAGE',
  CreateTableSpaceStmt: 'CREATE TABLESPACE',
  DropTableSpaceStmt: 'DROP TABLESPACE',
  AlterTableSpaceOptionsStmt: 'ALTER TABLESPACE',
  AlterTableMoveAllStmt: 'ALTER TABLE',
  CreateFdwStmt: 'CREATE FOREIGN DATA WRAPPER',
  AlterFdwStmt: 'ALTER FOREIGN DATA WRAPPER',
  CreateForeignServerStmt: 'CREATE SERVER',
  AlterForeignServerStmt: 'ALTER SERVER',
  CreateUserMappingStmt: 'CREATE USER MAPPING',
  AlterUserMappingStmt: 'ALTER USER MAPPING',
  DropUserMappingStmt: 'DROP USER MAPPING',
  ImportForeignSchemaStmt: 'IMPORT FOREIGN SCHEMA',
  CreatePublicationStmt: 'CREATE PUBLICATION',
  AlterPublicationStmt: 'ALTER PUBLICATION',
  CreateSubscriptionStmt: 'CREATE SUBSCRIPTION',
  AlterSubscriptionStmt: 'ALTER SUBSCRIPTION',
  DropSubscriptionStmt: 'DROP SUBSCRIPTION',
  CreateStatsStmt: 'CREATE STATISTICS',
  AlterStatsStmt: 'ALTER STATISTICS',
  AlterCollationStmt: 'ALTER COLLATION',
  AlterTSDictionaryStmt: 'ALTER TEXT SEARCH DICTIONARY',
  AlterTSConfigurationStmt: 'ALTER TEXT SEARCH CONFIGURATION',
  DropOwnedStmt: 'DROP OWNED',
  ReassignOwnedStmt: 'REASSIGN OWNED',
  CommentStmt: 'COMMENT',
  SecLabelStmt: 'SECURITY LABEL',
};

/** Statement types whose tag depends on an ObjectType field, and that field's name. */
const TYPED_TAGS: Readonly<Record<string, readonly [verb: string, field: string]>> = {
  DropStmt: ['DROP', 'removeType'],
  AlterTableStmt: ['ALTER', 'objtype'],
  RenameStmt: ['ALTER', 'renameType'],
  AlterObjectSchemaStmt: ['ALTER', 'objectType'],
  AlterOwnerStmt: ['ALTER', 'objectType'],
  AlterObjectDependsStmt: ['ALTER', 'objectType'],
  AlterFunctionStmt: ['ALTER', 'objtype'],
  DefineStmt: ['CREATE', 'kind'],
};

const OBJECT_WORDS: Readonly<Record<string, string>> = {
  MATVIEW: 'MATERIALIZED VIEW',
  TSCONFIGURATION: 'TEXT SEARCH CONFIGURATION',
  TSDICTIONARY: 'TEXT SEARCH DICTIONARY',
  TSPARSER: 'TEXT SEARCH PARSER',
  TSTEMPLATE: 'TEXT SEARCH TEMPLATE',
  FDW: 'FOREIGN DATA WRAPPER',
  FOREIGN_SERVER: 'SERVER',
  OPCLASS: 'OPERATOR CLASS',
  OPFAMILY: 'OPERATOR FAMILY',
  STATISTIC_EXT: 'STATISTICS',
  LARGEOBJECT: 'LARGE OBJECT',
  TABCONSTRAINT: 'TABLE',
  DOMCONSTRAINT: 'DOMAIN',
  COLUMN: 'TABLE',
  ATTRIBUTE: 'TYPE',
  ACCESS_METHOD: 'ACCESS METHOD',
};

/** `OBJECT_MATVIEW` → `MATERIALIZED VIEW`. */
function objectWords(objectType: unknown): string {
  const t = typeof objectType === 'string' ? objectType.replace(/^OBJECT_/, '') : 'TABLE';
  return OBJECT_WORDS[t] ?? t.replace(/_/g, ' ');
}

/** Command tag of a DDL statement type, or undefined when the type is not DDL we know. */
export function ddlCommand(type: string, v: AstObject): string | undefined {
  const fixed = FIXED_TAGS[type];
  if (fixed !== undefined) return fixed;
  const typed = TYPED_TAGS[type];
  if (typed !== undefined) return `${typed[0]} ${objectWords(v[typed[1]])}`;
  if (type === 'CreateFunctionStmt') return v.is_procedure ? 'CREATE PROCEDURE' : 'CREATE FUNCTION';
  if (type === 'CreateRoleStmt') {
    if (v.stmt_type === 'ROLESTMT_USER') return 'CREATE USER';
    return v.stmt_type === 'ROLESTMT_GROUP' ? 'CREATE GROUP' : 'CREATE ROLE';
  }
  return undefined;
}

const RELATION_KINDS: ReadonlySet<string> = new Set([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_INDEX',
  'OBJECT_SEQUENCE',
  'OBJECT_FOREIGN_TABLE',
]);

function objectKind(objectType: unknown): string {
  return typeof objectType === 'string'
    ? objectType.replace(/^OBJECT_/, '').toLowerCase()
    : 'object';
}

/** The objects a DROP names, schema-qualified where they live in a schema. */
function dropObjects(w: Walker, d: DropStmt): void {
  const kind = objectKind(d.removeType);
  for (const o of d.objects ?? []) {
    const list = unwrap<{ items?: unknown[] }>(o, 'List')?.items;
    const owa = unwrap<{ objname?: unknown[] }>(o, 'ObjectWithArgs');
    const typeName = unwrap<{ names?: unknown[] }>(o, 'TypeName');
    const str = unwrap<{ sval?: string }>(o, 'String');
    if (list !== undefined) {
      const parts = strings(list);
      if (RELATION_KINDS.has(d.removeType ?? '')) {
        const r = resolveRelation(parts[parts.length - 2], parts[parts.length - 1] ?? '', w.path);
        w.b.object(kind, `${r.schema}.${r.table}`);
      } else w.b.object(kind, qualifyObject(parts, w.path));
    } else if (owa !== undefined) w.b.object(kind, resolveFunction(strings(owa.objname), w.path));
    else if (typeName !== undefined)
      w.b.object(kind, qualifyObject(strings(typeName.names), w.path));
    else if (str !== undefined) w.b.object(kind, str.sval ?? '');
  }
}

const NAMED: ReadonlyArray<readonly [type: string, field: string, kind: string]> = [
  ['CreateSchemaStmt', 'schemaname', 'schema'],
  ['CreateExtensionStmt', 'extname', 'extension'],
  ['AlterExtensionStmt', 'extname', 'extension'],
  ['CreatedbStmt', 'dbname', 'database'],
  ['DropdbStmt', 'dbname', 'database'],
  ['AlterDatabaseStmt', 'dbname', 'database'],
  ['AlterDatabaseSetStmt', 'dbname', 'database'],
  ['CreateRoleStmt', 'role', 'role'],
  ['IndexStmt', 'idxname', 'index'],
  ['CreateForeignServerStmt', 'servername', 'server'],
  ['CreateSubscriptionStmt', 'subname', 'subscription'],
  ['CreatePublicationStmt', 'pubname', 'publication'],
];

/** Walks a DDL statement: tag, `ddl` flag, objects, and the queries and calls inside it. */
export function walkDdl(
  w: Walker,
  type: string,
  v: AstObject,
  command: string,
  depth: number,
): string {
  w.b.flag('ddl');
  if (type === 'DropStmt') dropObjects(w, v as DropStmt);
  for (const [t, field, kind] of NAMED) {
    const name = v[field];
    if (t === type && typeof name === 'string') w.b.object(kind, name);
  }
  if (type === 'CreateFunctionStmt') {
    w.b.object('function', resolveFunction(strings(v.funcname as unknown[] | undefined), w.path));
  }
  // CREATE SCHEMA s CREATE TABLE x ...: the elements are created in (and resolve through) s.
  const inner =
    type === 'CreateSchemaStmt' && typeof v.schemaname === 'string'
      ? { ...w, path: [v.schemaname] }
      : w;
  ddlWalk(inner, v, depth + 1);
  return command;
}

const QUERIES: ReadonlySet<string> = new Set([
  'SelectStmt',
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
]);

/** Generic walk of a DDL tree: relations become objects, calls and queries are analyzed. */
function ddlWalk(w: Walker, node: unknown, depth: number): void {
  if (node === null || typeof node !== 'object') return;
  if (depth > w.maxDepth) {
    w.b.flag('too_deep');
    return;
  }
  if (Array.isArray(node)) {
    for (const n of node) ddlWalk(w, n, depth + 1);
    return;
  }
  const obj = node as AstObject;
  const type = nodeType(obj);
  if (type === undefined) return;
  if (isWrapped(obj)) {
    const v = obj[type];
    if (type === 'FuncCall' || type === 'SubLink') walkExpr(w, node, null, depth + 1);
    else if (QUERIES.has(type)) w.query(w, node, null, depth + 1);
    else if (type !== 'ColumnRef' && type !== 'TypeName') ddlWalk(w, v, depth + 1);
    return;
  }
  if (typeof obj.relname === 'string') {
    const schema = obj.relpersistence === 't' ? 'pg_temp' : (obj.schemaname as string | undefined);
    const r = resolveRelation(schema, obj.relname, w.path);
    w.b.object('relation', `${r.schema}.${r.table}`);
    return;
  }
  if (typeof obj.rolename === 'string' && typeof obj.roletype === 'string') {
    w.b.object('role', obj.rolename);
    return;
  }
  for (const k in obj) ddlWalk(w, obj[k], depth + 1);
}
