// What the row-estimate guardrail asks EXPLAIN about: the statement itself, the statement inside an
// EXPLAIN ANALYZE, or an EXECUTE with the PREPARE it needs; nothing for a PREPARE (it runs nothing yet).

import { parseSync, scanSync } from 'libpg-query';

export interface ExplainTarget {
  readonly text: string;
  readonly prelude?: readonly string[];
}

/** The text after `EXPLAIN [ANALYZE] [VERBOSE] | EXPLAIN (options)`, or null when it cannot be found. */
export function innerOfExplain(text: string): string | null {
  let tokens: { start: number; end: number; text: string }[];
  try {
    tokens = scanSync(text).tokens;
  } catch {
    return null;
  }
  const bytes = Buffer.from(text, 'utf8');
  let i = 0;
  if (tokens[i]?.text.toUpperCase() !== 'EXPLAIN') return null;
  i++;
  if (tokens[i]?.text === '(') {
    let depth = 0;
    for (; i < tokens.length; i++) {
      const t = tokens[i]!.text;
      if (t === '(') depth++;
      else if (t === ')' && --depth === 0) break;
    }
    i++;
  } else {
    while (['ANALYZE', 'ANALYSE', 'VERBOSE'].includes(tokens[i]?.text.toUpperCase() ?? '')) i++;
  }
  const start = tokens[i]?.start;
  return start === undefined ? null : bytes.subarray(start).toString('utf8');
}

/** The prepared-statement name of an `EXECUTE name(...)`, or null. */
export function executeName(text: string): string | null {
  try {
    const parsed = parseSync(text) as { stmts?: { stmt?: unknown }[] };
    const stmt = parsed.stmts?.[0]?.stmt as { ExecuteStmt?: { name?: string } } | undefined;
    return stmt?.ExecuteStmt?.name ?? null;
  } catch {
    return null;
  }
}

/**
 * The EXPLAIN target for a statement with these flags; null when nothing runs now (PREPARE), and
 * undefined when a target cannot be built (the caller refuses: fail closed).
 */
export function explainTarget(
  text: string,
  flags: readonly string[],
  preparedText: (name: string) => string | undefined,
): ExplainTarget | null | undefined {
  if (flags.includes('prepare')) return null;
  if (flags.includes('explain')) {
    const inner = innerOfExplain(text);
    return inner === null
      ? undefined
      : explainTarget(
          inner,
          flags.filter((f) => f !== 'explain'),
          preparedText,
        );
  }
  if (flags.includes('execute')) {
    const name = executeName(text);
    const prepare = name === null ? undefined : preparedText(name);
    if (prepare === undefined) return undefined;
    return { text, prelude: ['DEALLOCATE ALL', prepare] };
  }
  return { text };
}
