// What the session's SQL changed and later statements depend on: search_path (with SET LOCAL,
// commit and rollback), SQL-level prepared statements and cursors. Effects apply once the statement
// succeeded upstream; transaction ends restore what a rollback undid.

import type { AnalyzeContext, AnalyzedStatement, Effect, StoredQuery } from '../analyzer/facts.js';
import type { StatementAnalyzer } from './gate.js';
import {
  effectsOf,
  hasEffects,
  type Request,
  type SqlPrepared,
  samePath,
  type TxMarker,
} from './requests.js';

const IDLE = 0x49;
const IN_TRANSACTION = 0x54;

export class SqlState {
  readonly #analyzer: StatementAnalyzer;
  readonly #onDiscardAll: () => void;
  readonly #onUnknown: (effect: unknown) => void;
  readonly #sqlPrepared = new Map<string, SqlPrepared>();
  readonly #cursors = new Map<string, StoredQuery>();
  readonly #startupPath: readonly string[];
  /** search_path set with plain SET (survives the transaction only if it commits). */
  #sessionPath: readonly string[];
  /** search_path set with SET LOCAL (ends with the transaction). */
  #localPath: readonly string[] | null = null;
  /** #sessionPath when the current transaction began, restored if it rolls back. */
  #pathAtBegin: readonly string[] | null = null;
  #status = IDLE;
  /** The analyze context for the current search_path (rebuilt when it changes). */
  #context: AnalyzeContext | null = null;
  #lookups = 0;

  constructor(
    analyzer: StatementAnalyzer,
    startupPath: readonly string[],
    onDiscardAll: () => void,
    onUnknown: (effect: unknown) => void,
  ) {
    this.#analyzer = analyzer;
    this.#startupPath = startupPath;
    this.#sessionPath = startupPath;
    this.#onDiscardAll = onDiscardAll;
    this.#onUnknown = onUnknown;
  }

  get searchPath(): readonly string[] {
    return this.#localPath ?? this.#sessionPath;
  }

  /** The PREPARE text of a SQL-level prepared statement, for EXPLAIN of its EXECUTE. */
  preparedText(name: string): string | undefined {
    return this.#sqlPrepared.get(name)?.text;
  }

  cursor(name: string): StoredQuery | undefined {
    return this.#cursors.get(name);
  }

  analyzeContext(): AnalyzeContext {
    const searchPath = this.searchPath;
    // The lookups read the live maps, so one context serves every statement until search_path changes.
    if (this.#context?.searchPath !== searchPath) {
      this.#context = {
        searchPath,
        defaultSearchPath: this.#startupPath,
        prepared: (name) => {
          this.#lookups++;
          return this.#preparedNow(name);
        },
        cursors: (name) => {
          this.#lookups++;
          return this.#cursors.get(name);
        },
      };
    }
    return this.#context;
  }

  /**
   * How many times an analysis asked for a SQL-level prepared statement or cursor: an analysis that
   * asked for none depends only on its text and context.
   */
  get lookups(): number {
    return this.#lookups;
  }

  /** A statement succeeded upstream: its effects hold from now on. */
  applyStatement(request: Request, statement: AnalyzedStatement): void {
    if (!hasEffects(statement)) return;
    for (const effect of effectsOf([statement])) {
      request.pathBefore ??= this.#sessionPath;
      if (effect.type === 'Commit' && this.#status === IN_TRANSACTION) request.committed = true;
      this.#apply(effect, statement);
    }
  }

  /** A request ended with ReadyForQuery `status`; returns true when a transaction just ended. */
  onReady(request: Request | undefined, status: number): boolean {
    const before = this.#status;
    if (before === IDLE && status !== IDLE) this.#pathAtBegin = this.#sessionPath;
    // An implicit transaction that failed rolled back every transactional setting it made.
    if (
      request?.failed === true &&
      before === IDLE &&
      status === IDLE &&
      request.pathBefore !== null
    ) {
      this.#sessionPath = request.pathBefore;
    }
    this.#status = status;
    if (status !== IDLE) return false;
    this.#localPath = null;
    // A transaction that ended without a successful COMMIT from a healthy state rolled back.
    const committed = request !== undefined && before === IN_TRANSACTION && request.committed;
    if (before !== IDLE && !committed && this.#pathAtBegin !== null)
      this.#sessionPath = this.#pathAtBegin;
    this.#pathAtBegin = null;
    return true;
  }

  /** A SQL-level prepared statement as the server would run it now (names re-resolved if search_path changed). */
  #preparedNow(name: string): SqlPrepared | undefined {
    const stored = this.#sqlPrepared.get(name);
    if (
      stored === undefined ||
      samePath(stored.searchPath, this.searchPath) ||
      stored.text === ''
    ) {
      return stored;
    }
    const again = this.#analyzer.analyze(stored.text, {
      searchPath: this.searchPath,
      defaultSearchPath: this.#startupPath,
      prepared: () => undefined,
      cursors: () => undefined,
    }).statements[0];
    const effect = again?.effects.find((e) => e.type === 'Prepare');
    // SECURITY: if the PREPARE cannot be re-read, the EXECUTE is judged as unknown (fail closed).
    if (effect === undefined || effect.type !== 'Prepare') return undefined;
    return {
      facts: effect.facts,
      outputs: effect.outputs,
      text: stored.text,
      searchPath: this.searchPath,
    };
  }

  #apply(effect: Effect | TxMarker, statement: AnalyzedStatement): void {
    switch (effect.type) {
      case 'Begin':
        this.#pathAtBegin ??= this.#sessionPath;
        return;
      case 'Commit':
        this.#pathAtBegin = null;
        this.#localPath = null;
        return;
      case 'Rollback':
        if (this.#pathAtBegin !== null) this.#sessionPath = this.#pathAtBegin;
        this.#pathAtBegin = null;
        this.#localPath = null;
        return;
      case 'SetSearchPath': {
        const path = effect.path ?? this.#startupPath;
        if (effect.local) this.#localPath = path;
        else this.#sessionPath = path;
        return;
      }
      case 'Prepare':
        this.#sqlPrepared.set(effect.name, {
          facts: effect.facts,
          outputs: effect.outputs,
          text: statement.text,
          searchPath: this.searchPath,
        });
        return;
      case 'Deallocate':
        if (effect.all || effect.name === null) this.#sqlPrepared.clear();
        else this.#sqlPrepared.delete(effect.name);
        return;
      case 'DeclareCursor':
        this.#cursors.set(effect.name, { facts: effect.facts, outputs: effect.outputs });
        return;
      case 'CloseCursor':
        if (effect.all || effect.name === null) this.#cursors.clear();
        else this.#cursors.delete(effect.name);
        return;
      case 'Discard':
        if (effect.target === 'all') {
          this.#sqlPrepared.clear();
          this.#cursors.clear();
          this.#sessionPath = this.#startupPath;
          this.#localPath = null;
          this.#onDiscardAll();
        } else if (effect.target === 'plans') this.#sqlPrepared.clear();
        return;
      default:
        this.#onUnknown(effect);
    }
  }
}
