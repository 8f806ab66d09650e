// Row estimates for the EXPLAIN guardrail. Estimates come from a side connection the session opens on
// first need (same upstream, same role, the session's search_path), so a pipelined client's batch is
// never interleaved with gateway traffic. See docs/adr/0003-explain-on-a-side-connection.md.

import { serialize } from 'pg-protocol';
import { PgwardError, toError } from '../../lib/errors.js';
import type { Row, SideConnection } from './side-connection.js';

export interface EstimateRequest {
  /** Statements run first on the side connection (for example the PREPARE an EXECUTE needs). */
  readonly prelude?: readonly string[];
  /** The statement text, exactly as the client sent it. */
  readonly text: string;
  readonly searchPath: readonly string[];
  /** Extended protocol: the parameter type section of the client's Parse (after the query string). */
  readonly paramTypes?: Buffer;
  /** Extended protocol: the client's Bind body (its parameter values are reused). */
  readonly bind?: Buffer;
}

export interface Explainer {
  /** The planner's row estimate for the statement, or a PgwardError. */
  estimate(request: EstimateRequest): Promise<number>;
  close(): void;
}

/** Quotes a schema name as an identifier. */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Rows the statement is estimated to touch: the largest input of any ModifyTable node anywhere in the
 * plan (a DELETE inside a CTE included), else the top node's estimate.
 */
export function estimatedRows(plan: unknown): number {
  const top = (Array.isArray(plan) ? plan[0] : plan) as { Plan?: PlanNode } | undefined;
  const root = top?.Plan;
  if (root === undefined)
    throw new PgwardError('PGW_UPSTREAM_PROTOCOL', 'EXPLAIN returned no plan');
  let modified = -1;
  const stack: PlanNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const children = Array.isArray(node.Plans) ? node.Plans : [];
    if (node['Node Type'] === 'ModifyTable') {
      const rows = Math.max(
        Number(node['Plan Rows']) || 0,
        ...children.map((c) => Number(c['Plan Rows']) || 0),
      );
      modified = Math.max(modified, rows);
    }
    stack.push(...children);
  }
  if (modified >= 0) return modified;
  const own = Number(root['Plan Rows']);
  if (!Number.isFinite(own))
    throw new PgwardError('PGW_UPSTREAM_PROTOCOL', 'EXPLAIN plan has no row estimate');
  return own;
}

interface PlanNode {
  readonly 'Node Type'?: string;
  readonly 'Plan Rows'?: number;
  readonly Plans?: PlanNode[];
}

/** Splits a Bind body: returns the parameter section (formats and values) without names or result formats. */
export function bindParameters(bind: Buffer): Buffer {
  let pos = bind.indexOf(0) + 1;
  pos = bind.indexOf(0, pos) + 1;
  if (pos <= 1) throw new PgwardError('PGW_WIRE_PROTOCOL_VIOLATION', 'malformed Bind');
  const start = pos;
  const formats = bind.readInt16BE(pos);
  pos += 2 + 2 * formats;
  const params = bind.readInt16BE(pos);
  pos += 2;
  for (let i = 0; i < params; i++) {
    const len = bind.readInt32BE(pos);
    pos += 4 + Math.max(len, 0);
  }
  return bind.subarray(start, pos);
}

function message(type: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

const cstr = (s: string) => Buffer.from(`${s}\0`, 'utf8');

export function createExplainer(side: SideConnection): Explainer {
  let currentPath: string | null = null;
  const run = async (request: EstimateRequest): Promise<number> => {
    const path = request.searchPath.map(ident).join(', ') || "''";
    if (path !== currentPath) {
      currentPath = null;
      await side.run(serialize.query(`SET search_path TO ${path}`));
      currentPath = path;
    }
    for (const sql of request.prelude ?? []) await side.run(serialize.query(sql));
    const text = `EXPLAIN (FORMAT JSON) ${request.text}`;
    let rows: Row[];
    if (request.bind === undefined) {
      rows = await side.run(serialize.query(text));
    } else {
      const parse = Buffer.concat([
        cstr(''),
        cstr(text),
        request.paramTypes ?? Buffer.from([0, 0]),
      ]);
      const bind = Buffer.concat([
        cstr(''),
        cstr(''),
        bindParameters(request.bind),
        Buffer.from([0, 0]),
      ]);
      rows = await side.run(
        Buffer.concat([
          message(0x50, parse),
          message(0x42, bind),
          serialize.execute(),
          serialize.sync(),
        ]),
      );
    }
    if (rows.length === 0)
      throw new PgwardError('PGW_UPSTREAM_PROTOCOL', 'EXPLAIN returned nothing');
    return estimatedRows(JSON.parse(rows.map((r) => r[0] ?? '').join('\n')));
  };
  return {
    estimate: (request) =>
      run(request).catch((err: unknown) => {
        currentPath = null;
        throw err instanceof PgwardError
          ? err
          : new PgwardError('PGW_UPSTREAM_PROTOCOL', 'EXPLAIN failed', { cause: toError(err) });
      }),
    close: () => side.close(),
  };
}
