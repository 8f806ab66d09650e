// The grant index the evaluator derives from a bundle's data document before handing it to the
// policy: data.grant_index maps each subject and group to the positions of the grants that name
// it, so the Rego looks at one identity's grants instead of scanning every grant per statement,
// and says which grants have well-formed windows, so the Rego does not check them per statement.

/** Positions in data.grants, by the subject.sub or subject.group that names them. */
export interface GrantIndex {
  readonly subjects: Readonly<Record<string, readonly number[]>>;
  readonly groups: Readonly<Record<string, readonly number[]>>;
  /** Grants whose subject is not a plain string sub or group: always checked by the policy. */
  readonly other: readonly number[];
  /**
   * By position: true when the grant's not_before and expires_at are both canonical UTC seconds
   * (the template's utc_second: `YYYY-MM-DDTHH:MM:SSZ`), the only windows the policy compares.
   */
  readonly utc_windows: readonly boolean[];
}

/** A timestamp the policy compares as text: fixed-width UTC to the second (time.rego utc_second). */
const UTC_SECOND = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;

const isUtcSecond = (value: unknown): boolean =>
  typeof value === 'string' && UTC_SECOND.test(value);

/** The data key the index is published under (the data schema allows no such key in a bundle). */
export const GRANT_INDEX_KEY = 'grant_index';

/**
 * The index of `grants`. Only narrows: every grant the policy's full subject check could match is
 * listed under its sub, its group or `other`, and the policy checks each candidate in full.
 */
export function grantIndex(grants: readonly unknown[]): GrantIndex {
  // Null-prototype records: a subject named "__proto__" is just another key.
  const subjects: Record<string, number[]> = Object.create(null);
  const groups: Record<string, number[]> = Object.create(null);
  const other: number[] = [];
  const utcWindows = grants.map(
    (grant) => isRecord(grant) && isUtcSecond(grant.not_before) && isUtcSecond(grant.expires_at),
  );
  grants.forEach((grant, position) => {
    const subject = isRecord(grant) ? grant.subject : undefined;
    if (!isRecord(subject)) {
      other.push(position);
      return;
    }
    const { sub, group } = subject;
    // A sub or group that is not a string can only equal a non-string in a malformed input: such
    // grants are not keyed but listed under `other`, which the policy checks in full.
    if (
      (sub !== undefined && typeof sub !== 'string') ||
      (group !== undefined && typeof group !== 'string')
    ) {
      other.push(position);
      return;
    }
    if (typeof sub === 'string') append(subjects, sub, position);
    if (typeof group === 'string') append(groups, group, position);
  });
  return { subjects, groups, other, utc_windows: utcWindows };
}

function append(index: Record<string, number[]>, key: string, position: number): void {
  const positions = index[key];
  if (positions === undefined) index[key] = [position];
  else positions.push(position);
}

/**
 * The data document the policy evaluates: `data` with its grant index, derived here and never
 * taken from the bundle. Without an array of grants there is no index, and the policy scans.
 */
export function withGrantIndex(data: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { [GRANT_INDEX_KEY]: _fromBundle, ...rest } = data;
  const grants = rest.grants;
  return Array.isArray(grants) ? { ...rest, [GRANT_INDEX_KEY]: grantIndex(grants) } : rest;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
