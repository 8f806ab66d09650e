// Masks the text of upstream ErrorResponses that could quote row values: the server puts values in
// messages, details and contexts (`invalid input syntax for type integer: "078-05-1120"`, a NOT NULL
// violation's `Failing row contains (...)`), which would hand the client what masking hides.
// @see https://www.postgresql.org/docs/current/protocol-error-fields.html

/** Fields that never carry row data: severity, SQLSTATE, positions, object names, server source. */
const NAME_FIELDS = new Set([...'SVCPpstcdnFLR'].map((c) => c.charCodeAt(0)));

/**
 * SQLSTATE classes raised before any row is read or about the session, whose message, detail and
 * hint name only statement text and objects: connection, feature, transaction state, statement and
 * cursor names, authorization, rollback, syntax and access, resources, limits, prerequisite state,
 * operator intervention.
 */
const TEXT_SAFE_CLASSES = new Set([
  '08',
  '0A',
  '25',
  '26',
  '28',
  '34',
  '3D',
  '3F',
  '40',
  '42',
  '53',
  '54',
  '55',
  '57',
]);

const C = 0x43;
const D = 0x44;
const H = 0x48;
const M = 0x4d;

type Field = readonly [code: number, value: string];

function parseFields(body: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < body.length && body[pos] !== 0) {
    const end = body.indexOf(0, pos + 1);
    if (end < 0) break;
    fields.push([body[pos]!, body.toString('utf8', pos + 1, end)]);
    pos = end + 1;
  }
  return fields;
}

function encode(fields: readonly Field[]): Buffer {
  let size = 4 + 1;
  for (const [, v] of fields) size += 1 + Buffer.byteLength(v) + 1;
  const out = Buffer.allocUnsafe(1 + size);
  out[0] = 0x45;
  out.writeInt32BE(size, 1);
  let at = 5;
  for (const [k, v] of fields) {
    out[at++] = k;
    at += out.write(v, at);
    out[at++] = 0;
  }
  out[at] = 0;
  return out;
}

/** The SQLSTATE ('C' field) of an ErrorResponse body, or XX000 when it has none. */
function sqlstateOf(fields: readonly Field[]): string {
  return fields.find(([k]) => k === C)?.[1] ?? 'XX000';
}

/** The message a withheld error text is replaced with. */
export function withheldMessage(sqlstate: string): string {
  return `the error text is withheld because the statement reads masked columns (SQLSTATE ${sqlstate})`;
}

/**
 * For a statement with a mask plan: the ErrorResponse (whole message) with every field that may quote
 * data removed or replaced. Severity, SQLSTATE, positions and object names stay, so clients still
 * handle the error by its code; errors of text-safe classes keep their message, detail and hint.
 * SECURITY: context (W), internal query (q) and unknown fields are always dropped.
 */
export function maskErrorResponse(body: Buffer): Buffer {
  const fields = parseFields(body);
  const sqlstate = sqlstateOf(fields);
  const safe = TEXT_SAFE_CLASSES.has(sqlstate.slice(0, 2));
  const kept: Field[] = [];
  for (const [k, v] of fields) {
    if (NAME_FIELDS.has(k) || (safe && (k === M || k === D || k === H))) kept.push([k, v]);
    else if (k === M) kept.push([M, withheldMessage(sqlstate)]);
  }
  if (!kept.some(([k]) => k === M)) kept.push([M, withheldMessage(sqlstate)]);
  return encode(kept);
}

/** True for an integrity constraint violation (class 23), whose detail quotes row values. */
export function isIntegrityViolation(sqlstate: string | null): boolean {
  return sqlstate?.startsWith('23') === true;
}

/**
 * For an integrity constraint violation (class 23) of any statement: the ErrorResponse without its
 * detail, context and internal query. The detail quotes the failing row (`Failing row contains (...)`,
 * every column of an UPDATEd row) or key values (`Key (ssn, region)=(...)`), masked columns included
 * whatever the statement reads; the message names only the constraint, and the schema, table, column
 * and constraint fields stay.
 */
export function withholdRowDetail(body: Buffer): Buffer {
  const fields = parseFields(body);
  return encode(fields.filter(([k]) => NAME_FIELDS.has(k) || k === M || k === H));
}
