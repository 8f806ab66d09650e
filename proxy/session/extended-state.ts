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

  /** Records a Bind whose body is `src[start, end)` (kept as a copy); false when the portal limit is reached. */
  bind(
    batch: object,
    portal: string,
    statement: string,
    src: Buffer,
    start: number,
    end: number,
  ): boolean {
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
      value: entry === undefined ? null : { statement: entry, bind: copyOf(src, start, end) },
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

/** A copy of `src[start, end)` (the caller's bytes are only valid during its call). */
export function copyOf(src: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  src.copy(out, 0, start, end);
  return out;
}

// The decoders read a message body given as `src[start, end)`: the session hands over the bytes where the
// framer found them (no view is made per message). They never read past `end`.

/** Where the C string at `pos` ends (the index of its NUL), or -1 when there is no NUL before `end`. */
export function cstringEnd(src: Buffer, pos: number, end: number): number {
  // The unnamed statement and portal, which most drivers use for every query: nothing to search.
  if (pos < end && src[pos] === 0) return pos;
  const nul = pos < end ? src.indexOf(0, pos) : -1;
  return nul < end ? nul : -1;
}

/** The C string `src[pos, nul)` (nul from cstringEnd). */
function cstringAt(src: Buffer, pos: number, nul: number): string {
  return nul === pos ? '' : src.toString('utf8', pos, nul);
}

/** The parameter type section that declares none (never written to). */
const NO_PARAM_TYPES = Buffer.from([0, 0]);

/**
 * UTF-8 text that tends to repeat (a driver's one query text, a session's command tags): the same bytes as
 * last time give the same string, without decoding them again.
 */
export class RepeatedText {
  #bytes: Buffer = Buffer.alloc(0);
  #text = '';

  read(src: Buffer, start: number, end: number): string {
    const last = this.#bytes;
    if (end - start === last.length) {
      // A loop, not Buffer#compare: for a few dozen bytes the call costs more than it saves.
      let i = 0;
      while (i < last.length && src[start + i] === last[i]) i++;
      if (i === last.length) return this.#text;
    }
    this.#text = src.toString('utf8', start, end);
    this.#bytes = copyOf(src, start, end);
    return this.#text;
  }
}

/** Decodes Parse bodies; the statement text, which a driver sends again and again, as RepeatedText. */
export class ParseReader {
  readonly #texts = new RepeatedText();

  read(
    src: Buffer,
    start: number,
    end: number,
  ): { name: string; text: string; paramTypes: Buffer } | null {
    const nameEnd = cstringEnd(src, start, end);
    if (nameEnd < 0) return null;
    const textEnd = cstringEnd(src, nameEnd + 1, end);
    if (textEnd < 0 || end < textEnd + 3) return null;
    const count = src.readInt16BE(textEnd + 1);
    if (count < 0 || end !== textEnd + 3 + 4 * count) return null;
    const name = cstringAt(src, start, nameEnd);
    const text = this.#texts.read(src, nameEnd + 1, textEnd);
    // No declared types (the common case) share one buffer; otherwise a copy, as the body is only valid
    // during the call.
    if (count === 0) return { name, text, paramTypes: NO_PARAM_TYPES };
    return { name, text, paramTypes: copyOf(src, textEnd + 1, end) };
  }
}

export function decodeBind(
  src: Buffer,
  start: number,
  end: number,
): { portal: string; statement: string } | null {
  const portalEnd = cstringEnd(src, start, end);
  if (portalEnd < 0) return null;
  const statementEnd = cstringEnd(src, portalEnd + 1, end);
  if (statementEnd < 0) return null;
  return {
    portal: cstringAt(src, start, portalEnd),
    statement: cstringAt(src, portalEnd + 1, statementEnd),
  };
}

export function decodeExecute(src: Buffer, start: number, end: number): { portal: string } | null {
  const nul = cstringEnd(src, start, end);
  return nul < 0 ? null : { portal: cstringAt(src, start, nul) };
}

export function decodeCloseOrDescribe(
  src: Buffer,
  start: number,
  end: number,
): { kind: 'S' | 'P'; name: string } | null {
  const kind = start < end ? src[start] : undefined;
  if (kind !== 0x53 && kind !== 0x50) return null;
  const nul = cstringEnd(src, start + 1, end);
  return nul < 0 ? null : { kind: kind === 0x53 ? 'S' : 'P', name: cstringAt(src, start + 1, nul) };
}

export function decodeQuery(src: Buffer, start: number, end: number): string | null {
  // The text and its NUL are the whole body.
  const nul = cstringEnd(src, start, end);
  return nul < 0 || nul + 1 !== end ? null : src.toString('utf8', start, nul);
}
