// Plans the masking of result rows: a RowDescription plus the statement's mask plan and output lineage
// become a per-field plan (row-writer.ts rewrites the DataRows). Fields whose origin cannot be proven are
// masked.

import type { ColumnOrigins } from './column-origins.js';
import type { MaskMethod } from './mask-methods.js';

/** Lineage of one output column, as the analyzer reports it (sources are schema.table.column or schema.table.*). */
export type OutputLineage =
  | { readonly kind: 'column'; readonly source: string }
  | { readonly kind: 'derived'; readonly sources: readonly string[] }
  | { readonly kind: 'star'; readonly table: string }
  | { readonly kind: 'opaque' };

export interface FieldDescription {
  readonly name: string;
  readonly tableOid: number;
  readonly attnum: number;
  readonly typeOid: number;
  readonly format: number;
}

export interface FieldPlan {
  /** Per field: the method to apply, or null to pass the value unchanged. */
  readonly methods: readonly (MaskMethod | null)[];
  readonly types: readonly number[];
  /** Qualified origins of the fields that are masked (for audit). */
  readonly masked: readonly string[];
  /** When set, every field gets this method (rows whose description is unknown). */
  readonly all?: MaskMethod;
}

export function parseRowDescription(body: Buffer): FieldDescription[] {
  const count = body.readInt16BE(0);
  const fields: FieldDescription[] = [];
  let pos = 2;
  for (let i = 0; i < count; i++) {
    const end = body.indexOf(0, pos);
    const name = body.toString('utf8', pos, end);
    pos = end + 1;
    fields.push({
      name,
      tableOid: body.readUInt32BE(pos),
      attnum: body.readInt16BE(pos + 4),
      typeOid: body.readUInt32BE(pos + 6),
      format: body.readInt16BE(pos + 16),
    });
    pos += 18;
  }
  return fields;
}

/** The masking method for a source, with `schema.table.*` matching every masked column of the table. */
function methodsFor(
  sources: readonly string[],
  mask: Readonly<Record<string, MaskMethod>>,
): MaskMethod[] {
  const out: MaskMethod[] = [];
  for (const source of sources) {
    if (source.endsWith('.*')) {
      const prefix = source.slice(0, -1);
      for (const [column, method] of Object.entries(mask))
        if (column.startsWith(prefix)) out.push(method);
    } else {
      const method = mask[source];
      if (method !== undefined) out.push(method);
    }
  }
  return out;
}

/** A derived output of masked inputs is masked as a whole: NULL if any input demands NULL, else redacted. */
function derivedMethod(methods: readonly MaskMethod[]): MaskMethod | null {
  if (methods.length === 0) return null;
  return methods.includes('null') ? 'null' : 'redact';
}

/** The method for one output by its lineage (opaque and star outputs are masked: not proven). */
export function lineageMethod(
  lineage: OutputLineage,
  mask: Readonly<Record<string, MaskMethod>>,
): MaskMethod | null {
  switch (lineage.kind) {
    case 'column':
      return mask[lineage.source] ?? null;
    case 'derived':
      return derivedMethod(methodsFor(lineage.sources, mask));
    case 'star':
    case 'opaque':
      return 'redact';
  }
}

/** The stricter of two methods for one value: NULL wins, two different methods give redact. */
function strictest(a: MaskMethod | null, b: MaskMethod | null): MaskMethod | null {
  if (a === b || b === null) return a;
  if (a === null) return b;
  return a === 'null' || b === 'null' ? 'null' : 'redact';
}

/** Lineage per field when it lines up with the description (no star, same count), else null. */
function positionalLineage(
  fields: readonly FieldDescription[],
  outputs: readonly OutputLineage[] | null,
): readonly OutputLineage[] | null {
  return outputs !== null &&
    outputs.length === fields.length &&
    !outputs.some((o) => o.kind === 'star')
    ? outputs
    : null;
}

/**
 * Relation OIDs whose cached columns the description shows may be stale (DDL run on a connection the
 * gateway never saw): an attribute the cache does not know, a column the analyzer's lineage names
 * differently, or (without lineage to confirm it) an output name that is not the cached column name.
 * The caller reloads them once; a mismatch that survives the reload is an alias, or is masked by
 * the stricter reading (see planFields).
 */
export function staleOrigins(
  fields: readonly FieldDescription[],
  outputs: readonly OutputLineage[] | null,
  origins: ColumnOrigins,
): number[] {
  const lineage = positionalLineage(fields, outputs);
  const stale = new Set<number>();
  fields.forEach((field, i) => {
    const rel = field.tableOid === 0 ? undefined : origins.cached(field.tableOid);
    if (rel === undefined) return;
    const column = rel.columns.get(field.attnum);
    const o = lineage?.[i];
    if (column === undefined) stale.add(field.tableOid);
    else if (o?.kind === 'column') {
      if (o.source !== `${rel.schema}.${rel.table}.${column}`) stale.add(field.tableOid);
    } else if (field.name !== column) stale.add(field.tableOid);
  });
  return [...stale];
}

/** Relation OIDs the description needs from the catalog and that are not cached yet. */
export function missingOrigins(
  fields: readonly FieldDescription[],
  origins: ColumnOrigins,
): number[] {
  return fields
    .filter((f) => f.tableOid !== 0 && origins.cached(f.tableOid) === undefined)
    .map((f) => f.tableOid);
}

/**
 * Builds the field plan. Origins must be loaded (see missingOrigins). `outputs` is the analyzer's lineage
 * of the statement, or null when unknown.
 */
export function planFields(
  fields: readonly FieldDescription[],
  mask: Readonly<Record<string, MaskMethod>>,
  outputs: readonly OutputLineage[] | null,
  origins: ColumnOrigins,
): FieldPlan | null {
  if (Object.keys(mask).length === 0) return null;
  const lineage = positionalLineage(fields, outputs);
  const methods: (MaskMethod | null)[] = [];
  const masked: string[] = [];
  let any = false;
  fields.forEach((field, i) => {
    let method: MaskMethod | null;
    let label: string;
    if (field.tableOid !== 0) {
      const rel = origins.cached(field.tableOid);
      const column = rel?.columns.get(field.attnum);
      if (rel === undefined || column === undefined) {
        // SECURITY: an origin that cannot be resolved is not proven safe.
        method = 'redact';
        label = `oid:${field.tableOid}.${field.attnum}`;
      } else {
        label = `${rel.schema}.${rel.table}.${column}`;
        method = mask[label] ?? null;
        // SECURITY: the catalog and the analyzer disagree on the column (a stale cache that reloading
        // did not settle): the stricter of both readings.
        const o = lineage?.[i];
        if (o?.kind === 'column' && o.source !== label)
          method = strictest(method, mask[o.source] ?? null);
      }
    } else {
      // SECURITY: without a proven lineage while the statement reads masked columns, the output is masked.
      const o = lineage?.[i] ?? ({ kind: 'opaque' } as const);
      label = o.kind === 'column' ? o.source : `output:${field.name}`;
      method = lineageMethod(o, mask);
    }
    methods.push(method);
    if (method !== null) {
      any = true;
      masked.push(label);
    }
  });
  if (!any) return null;
  return { methods, types: fields.map((f) => f.typeOid), masked };
}
