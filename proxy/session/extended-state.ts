// Tracks the extended protocol's named objects per session: prepared statements by name (analyzed once at
// Parse) and portals by name (bound to a statement), plus the decoders for the messages that name them.
// @see https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY

import type { AnalyzedStatement } from '../analyzer/facts.js';

export interface PreparedEntry {
  readonly text: string;
  /** The parameter type section of the Parse message (int16 count, int32 OIDs). */
  readonly paramTypes: Buffer;
  readonly statements: readonly AnalyzedStatement[];
  /** search_path the statements were analyzed under; the server re-resolves names when it changes. */
  readonly searchPath: readonly string[];
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

/** An operation the client sent whose outcome the server has not confirmed yet. */
type Pending =
  | {
      readonly type: 'Parse';
      readonly batch: object;
      readonly name: string;
      readonly entry: PreparedEntry;
    }
  | {
      readonly type: 'Bind';
      readonly batch: object;
      readonly portal: string;
      readonly value: PortalEntry | null;
    }
  | {
      readonly type: 'Close';
      readonly batch: object;
      readonly kind: 'S' | 'P';
      readonly name: string;
    };

const ACK = { Parse: 0x31, Bind: 0x32, Close: 0x33 } as const;

/**
 * Named statements and portals as the server holds them. SECURITY: a Parse, Bind or Close changes the
 * gateway's view only when the server confirms it (ParseComplete, BindComplete, CloseComplete); until
 * then later messages of the same batch see it speculatively, and a batch that fails drops what the
 * server skipped. So a refused or skipped Parse can never make the gateway judge one statement while
 * the server runs another under the same name.
 */
export class ExtendedState {
  readonly #statements = new Map<string, PreparedEntry>();
  /** Named portals; the unnamed one, bound and dropped per statement by most drivers, is kept apart. */
  readonly #portals = new Map<string, PortalEntry>();
  #unnamedPortal: PortalEntry | undefined = undefined;
  readonly #pending: Pending[] = [];
  readonly #max: number;

  constructor(maxNamed: number) {
    this.#max = maxNamed;
  }

  /** Records a Parse; false when the named-statement limit is reached. */
  parse(batch: object, name: string, entry: PreparedEntry): boolean {
    if (
      name !== '' &&
      this.statement(name) === undefined &&
      this.#statements.size + this.#pending.length >= this.#max
    ) {
      return false;
    }
    this.#pending.push({ type: 'Parse', batch, name, entry });
    return true;
  }

  /** Records a Bind; false when the portal limit is reached. */
  bind(batch: object, portal: string, statement: string, body: Buffer): boolean {
    const entry = this.statement(statement);
    if (
      portal !== '' &&
      this.portal(portal) === undefined &&
      this.#portalCount() + this.#pending.length >= this.#max
    ) {
      return false;
    }
    this.#pending.push({
      type: 'Bind',
      batch,
      portal,
      value: entry === undefined ? null : { statement: entry, bind: Buffer.from(body) },
    });
    return true;
  }

  close(batch: object, kind: 'S' | 'P', name: string): void {
    this.#pending.push({ type: 'Close', batch, kind, name });
  }

  /** The statement a later message of the same batch would use (speculative view). */
  statement(name: string): PreparedEntry | undefined {
    for (let i = this.#pending.length - 1; i >= 0; i--) {
      const op = this.#pending[i]!;
      if (op.type === 'Parse' && op.name === name) return op.entry;
      if (op.type === 'Close' && op.kind === 'S' && op.name === name) return undefined;
    }
    return this.#statements.get(name);
  }

  portal(name: string): PortalEntry | undefined {
    for (let i = this.#pending.length - 1; i >= 0; i--) {
      const op = this.#pending[i]!;
      if (op.type === 'Bind' && op.portal === name) return op.value ?? undefined;
      if (op.type === 'Close' && op.kind === 'P' && op.name === name) return undefined;
    }
    return name === '' ? this.#unnamedPortal : this.#portals.get(name);
  }

  /** The server confirmed the oldest pending operation of this kind ('1', '2' or '3'). */
  confirm(ack: number): void {
    let index = 0;
    while (index < this.#pending.length && ACK[this.#pending[index]!.type] !== ack) index++;
    if (index === this.#pending.length) return;
    const op = index === 0 ? this.#pending.shift() : this.#pending.splice(index, 1)[0];
    switch (op!.type) {
      case 'Parse':
        this.#statements.set(op!.name, op!.entry);
        return;
      case 'Bind':
        this.#setPortal(op!.portal, op!.value ?? undefined);
        return;
      case 'Close':
        if (op!.kind === 'S') this.#statements.delete(op!.name);
        else this.#setPortal(op!.name, undefined);
        return;
    }
  }

  /** The batch is complete: whatever it left unconfirmed was refused or skipped by the server. */
  endBatch(batch: object): void {
    for (let i = this.#pending.length - 1; i >= 0; i--)
      if (this.#pending[i]!.batch === batch) this.#pending.splice(i, 1);
  }

  /** Statements whose names the server resolves again under a new search_path. */
  entries(): IterableIterator<PreparedEntry> {
    return this.#statements.values();
  }

  /** Portals do not survive the end of a transaction. */
  endTransaction(): void {
    this.#unnamedPortal = undefined;
    // Clearing an empty map still replaces its table: this runs at every ReadyForQuery outside a transaction.
    if (this.#portals.size > 0) this.#portals.clear();
  }

  /** DISCARD ALL / DEALLOCATE ALL semantics at the protocol level. */
  reset(): void {
    this.#statements.clear();
    this.#portals.clear();
    this.#unnamedPortal = undefined;
  }

  #portalCount(): number {
    return this.#portals.size + (this.#unnamedPortal === undefined ? 0 : 1);
  }

  #setPortal(name: string, value: PortalEntry | undefined): void {
    if (name === '') this.#unnamedPortal = value;
    else if (value === undefined) this.#portals.delete(name);
    else this.#portals.set(name, value);
  }
}

/** Where the C string at `pos` ends (the index of its NUL), or -1 when the body holds no NUL after it. */
export function cstringEnd(body: Buffer, pos: number): number {
  // The unnamed statement and portal, which most drivers use for every query: nothing to search.
  if (body[pos] === 0) return pos;
  return pos >= body.length ? -1 : body.indexOf(0, pos);
}

/** The C string `body[pos, end)` (end from cstringEnd). */
function cstringAt(body: Buffer, pos: number, end: number): string {
  return end === pos ? '' : body.toString('utf8', pos, end);
}

/** The parameter type section that declares none (never written to). */
const NO_PARAM_TYPES = Buffer.from([0, 0]);

/**
 * Decodes Parse bodies. A driver parses the same text over and over (the unnamed statement of each
 * query): when the text's bytes equal the last one's, its string is reused instead of decoded again.
 */
export class ParseReader {
  #bytes: Buffer = Buffer.alloc(0);
  #text = '';

  read(body: Buffer): { name: string; text: string; paramTypes: Buffer } | null {
    const nameEnd = cstringEnd(body, 0);
    if (nameEnd < 0) return null;
    const textEnd = cstringEnd(body, nameEnd + 1);
    if (textEnd < 0 || body.length < textEnd + 3) return null;
    const count = body.readInt16BE(textEnd + 1);
    if (count < 0 || body.length !== textEnd + 3 + 4 * count) return null;
    const name = cstringAt(body, 0, nameEnd);
    const text = this.#textOf(body, nameEnd + 1, textEnd);
    // No declared types (the common case) share one buffer; otherwise a copy, as the body is only valid
    // during the call.
    if (count === 0) return { name, text, paramTypes: NO_PARAM_TYPES };
    const paramTypes = Buffer.allocUnsafe(body.length - textEnd - 1);
    body.copy(paramTypes, 0, textEnd + 1);
    return { name, text, paramTypes };
  }

  #textOf(body: Buffer, start: number, end: number): string {
    const last = this.#bytes;
    if (end - start === last.length && body.compare(last, 0, last.length, start, end) === 0)
      return this.#text;
    const text = body.toString('utf8', start, end);
    this.#bytes = Buffer.from(body.subarray(start, end));
    this.#text = text;
    return text;
  }
}

export function decodeBind(body: Buffer): { portal: string; statement: string } | null {
  const portalEnd = cstringEnd(body, 0);
  if (portalEnd < 0) return null;
  const statementEnd = cstringEnd(body, portalEnd + 1);
  if (statementEnd < 0) return null;
  return {
    portal: cstringAt(body, 0, portalEnd),
    statement: cstringAt(body, portalEnd + 1, statementEnd),
  };
}

export function decodeExecute(body: Buffer): { portal: string } | null {
  const end = cstringEnd(body, 0);
  return end < 0 ? null : { portal: cstringAt(body, 0, end) };
}

export function decodeCloseOrDescribe(body: Buffer): { kind: 'S' | 'P'; name: string } | null {
  const kind = body[0];
  if (kind !== 0x53 && kind !== 0x50) return null;
  const end = cstringEnd(body, 1);
  return end < 0 ? null : { kind: kind === 0x53 ? 'S' : 'P', name: cstringAt(body, 1, end) };
}

export function decodeQuery(body: Buffer): string | null {
  // The text and its NUL are the whole body.
  const end = body.indexOf(0);
  return end < 0 || end + 1 !== body.length ? null : body.toString('utf8', 0, end);
}
