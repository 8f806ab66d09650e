// How long a caller's access lasts according to the serving bundle's grants: the bound of a minted
// pgward credential. Pure: it reads the bundle's data document.

interface GrantLike {
  readonly subject?: { readonly sub?: string; readonly group?: string };
  readonly database?: string;
  readonly not_before?: string;
  readonly expires_at?: string;
}

/**
 * The latest expires_at (epoch ms) of the grants active now for this subject (and database, when
 * given); `nowMs` itself when none is active, so a credential for nobody's grant is refused.
 */
export function grantsExpiry(
  data: unknown,
  sub: string,
  groups: readonly string[],
  database: string | undefined,
  nowMs: number,
): number {
  const grants = (data as { grants?: unknown } | null)?.grants;
  let latest = nowMs;
  if (!Array.isArray(grants)) return latest;
  for (const g of grants as GrantLike[]) {
    const subject = g.subject;
    const matches =
      subject !== undefined &&
      ((subject.sub !== undefined && subject.sub === sub) ||
        (subject.group !== undefined && groups.includes(subject.group)));
    if (!matches) continue;
    if (database !== undefined && g.database !== database) continue;
    const from = Date.parse(g.not_before ?? '');
    const until = Date.parse(g.expires_at ?? '');
    if (Number.isNaN(from) || Number.isNaN(until) || from > nowMs || until <= nowMs) continue;
    latest = Math.max(latest, until);
  }
  return latest;
}

/** The grants of the bundle's data that are active at `nowMs` (for the auditor API). */
export function activeGrants(data: unknown, nowMs: number): unknown[] {
  const grants = (data as { grants?: unknown } | null)?.grants;
  if (!Array.isArray(grants)) return [];
  return (grants as GrantLike[]).filter((g) => {
    const from = Date.parse(g.not_before ?? '');
    const until = Date.parse(g.expires_at ?? '');
    return !Number.isNaN(from) && !Number.isNaN(until) && from <= nowMs && nowMs < until;
  });
}
