// Tracks the extended protocol's named objects per session: prepared statements by name (analyzed once at
// Parse) and portals by name (bound to a statement), plus the decoders for the messages that name them.
// @see https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY

import type { AnalyzedStatement } from '../analyzer/facts.js';

export interface PreparedEntry {
  readonly text: string;
  /** The parameter type section of the Parse message (int16 count, int32 OIDs). */
  readonly paramTypes: Buffer;
  readonly statements: readonly AnalyzedStatement[];
  /** Per-entry decision cache; see decider. */
  cached: unknown;
  /** The RowDescription body the upstream answered a Describe of this statement with. */
  rowDescription?: Buffer | null;
}

export interface PortalEntry {
  readonly statement: PreparedEntry;
  /** The Bind message body, kept for parameter-aware guardrails (EXPLAIN with the same parameters). */
  readonly bind: Buffer;
}

/** Bounded maps: a client cannot make the gateway hold unbounded state by naming objects. */
export class ExtendedState {
  readonly #statements = new Map<string, PreparedEntry>();
  readonly #portals = new Map<string, PortalEntry>();
  readonly #max: number;

  constructor(maxNamed: number) {
    this.#max = maxNamed;
  }

  /** Returns false when the named-statement limit is reached. */
  parse(name: string, entry: PreparedEntry): boolean {
    if (name !== '' && !this.#statements.has(name) && this.#statements.size >= this.#max)
      return false;
    this.#statements.set(name, entry);
    return true;
  }

  statement(name: string): PreparedEntry | undefined {
    return this.#statements.get(name);
  }

  bind(portal: string, statement: string, body: Buffer): boolean {
    const entry = this.#statements.get(statement);
    if (entry === undefined) {
      // PostgreSQL answers this Bind with an error; the portal must not keep an older meaning.
      this.#portals.delete(portal);
      return true;
    }
    if (portal !== '' && !this.#portals.has(portal) && this.#portals.size >= this.#max)
      return false;
    this.#portals.set(portal, { statement: entry, bind: Buffer.from(body) });
    return true;
  }

  portal(name: string): PortalEntry | undefined {
    return this.#portals.get(name);
  }

  close(kind: 'S' | 'P', name: string): void {
    if (kind === 'S') this.#statements.delete(name);
    else this.#portals.delete(name);
  }

  /** Portals do not survive the end of a transaction. */
  endTransaction(): void {
    this.#portals.clear();
  }

  /** DISCARD ALL / DEALLOCATE ALL semantics at the protocol level. */
  reset(): void {
    this.#statements.clear();
    this.#portals.clear();
  }
}

/** Reads a NUL-terminated string at `pos`; returns the string and the position after the NUL, or null. */
export function cstring(body: Buffer, pos: number): [string, number] | null {
  const end = body.indexOf(0, pos);
  if (end < 0) return null;
  return [body.toString('utf8', pos, end), end + 1];
}

export function decodeParse(
  body: Buffer,
): { name: string; text: string; paramTypes: Buffer } | null {
  const name = cstring(body, 0);
  if (name === null) return null;
  const text = cstring(body, name[1]);
  if (text === null || body.length < text[1] + 2) return null;
  const count = body.readInt16BE(text[1]);
  if (count < 0 || body.length !== text[1] + 2 + 4 * count) return null;
  return { name: name[0], text: text[0], paramTypes: Buffer.from(body.subarray(text[1])) };
}

export function decodeBind(body: Buffer): { portal: string; statement: string } | null {
  const portal = cstring(body, 0);
  if (portal === null) return null;
  const statement = cstring(body, portal[1]);
  if (statement === null) return null;
  return { portal: portal[0], statement: statement[0] };
}

export function decodeExecute(body: Buffer): { portal: string } | null {
  const portal = cstring(body, 0);
  return portal === null ? null : { portal: portal[0] };
}

export function decodeCloseOrDescribe(body: Buffer): { kind: 'S' | 'P'; name: string } | null {
  const kind = body[0];
  if (kind !== 0x53 && kind !== 0x50) return null;
  const name = cstring(body, 1);
  return name === null ? null : { kind: kind === 0x53 ? 'S' : 'P', name: name[0] };
}

export function decodeQuery(body: Buffer): string | null {
  const text = cstring(body, 0);
  return text === null || text[1] !== body.length ? null : text[0];
}
