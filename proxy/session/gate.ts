// The statement gate: in policy mode every request is analyzed and judged before it reaches the upstream.
// A denial is delivered through the upstream itself (an injected request that fails with a per-process
// token, whose ErrorResponse is rewritten into the denial), so PostgreSQL's own transaction and
// extended-protocol error semantics — abort the transaction, discard until Sync — hold exactly.

import { randomBytes } from 'node:crypto';
import type { Logger } from '../../lib/log.js';
import type { AnalyzeContext, AnalyzedStatement } from '../analyzer/facts.js';
import { withEstimate } from '../analyzer/statement-facts.js';
import type { ApprovalDesk, ApprovalReference, Reviewed } from '../decider/approval-desk.js';
import { explainTarget } from '../decider/explain-target.js';
import type { Judge, JudgeContext, Verdict } from '../decider/judge.js';
import type { ColumnOrigins } from '../filter/column-origins.js';
import {
  type CopyFormat,
  type CopyPlan,
  copyFormatOf,
  maskCopyData,
} from '../filter/copy-masker.js';
import {
  isIntegrityViolation,
  maskErrorResponse,
  withholdRowDetail,
} from '../filter/error-masker.js';
import type { Masker, MaskMethod } from '../filter/mask-methods.js';
import {
  type FieldPlan,
  lineageMethod,
  missingOrigins,
  type OutputLineage,
  parseRowDescription,
  planFields,
  staleOrigins,
} from '../filter/row-masker.js';
import { type RowSink, writeMaskedRows } from '../filter/row-writer.js';
import type { Explainer } from '../upstream/explainer.js';
import { type ClientError, clientErrors } from '../wire/client-errors.js';
import {
  copyOf,
  decodeBind,
  decodeCloseOrDescribe,
  decodeExecute,
  decodeQuery,
  ExtendedState,
  ParseReader,
  type PortalEntry,
  type PreparedEntry,
} from './extended-state.js';
import {
  addResult,
  addSlot,
  asStatement,
  changesCatalog,
  changesSessionState,
  expandStars,
  hasMask,
  markMasked,
  newRequest,
  noResults,
  type Request,
  type Slot,
  type StatementDone,
  samePath,
  sqlstateOf,
  TagReader,
  unestimated,
} from './requests.js';
import { SqlState } from './sql-state.js';

/** What masking needs per session: column origins of the session's upstream database and the masker. */
export interface ResultFilterDeps {
  readonly origins: ColumnOrigins;
  readonly masker: Masker;
}

export interface StatementAnalyzer {
  analyze(sql: string, ctx: AnalyzeContext): { statements: AnalyzedStatement[] };
}

export interface GatePolicy {
  readonly analyzer: StatementAnalyzer;
  readonly judge: Judge;
  /** Masking support per upstream (by upstream name). */
  readonly filterFor: (upstream: string) => ResultFilterDeps;
  /** False while statements must be refused because their audit records cannot be kept. */
  readonly admit?: () => boolean;
  /** Named statements and portals a session may hold. */
  readonly maxNamed: number;
  /** Human approval: files the requests refusals name, counts approval uses, holds in wait mode. */
  readonly approvals?: ApprovalDesk;
}

/** What the session does with the message it handed to the gate. */
export type GateAction =
  | { readonly type: 'Forward' }
  /** The decision needs the database's opinion first; hold this and every later message until it settles. */
  | { readonly type: 'Defer'; readonly action: Promise<GateAction> }
  | { readonly type: 'Replace'; readonly bytes: Buffer }
  | { readonly type: 'Drop' }
  | { readonly type: 'Fatal'; readonly error: ClientError };

export interface StatementEvent {
  readonly statements: readonly AnalyzedStatement[];
  readonly verdict: Verdict;
  readonly protocol: 'simple' | 'extended' | 'function';
}

/** A statement being decided, as the paths that wait (approval, row estimate) carry it. */
interface Deciding {
  readonly statements: readonly AnalyzedStatement[];
  readonly verdict: Verdict;
  readonly protocol: StatementEvent['protocol'];
  readonly request: Request;
  readonly inject: Buffer;
  /** Extended protocol: the portal the Execute runs, if known. */
  readonly portal: PortalEntry | undefined | null;
}

/** The actions that carry nothing, shared (an action is never changed). */
const FORWARD: GateAction = Object.freeze({ type: 'Forward' });
const DROP: GateAction = Object.freeze({ type: 'Drop' });
/** The answers that carry nothing but their kind, shared (a result is never changed). */
const EMPTY_RESULT = Object.freeze({ tag: 'EMPTY', rows: null, sqlstate: null });
const SUSPENDED_RESULT = Object.freeze({ tag: 'SUSPENDED', rows: null, sqlstate: null });
/** The masked columns of a slot that masked nothing. */
const NOTHING_MASKED: readonly string[] = Object.freeze([]);

/** SECURITY: the token is random per process so a client cannot forge an error that is rewritten. */
const TOKEN = `pgward_denied_${randomBytes(12).toString('hex')}`;
const TOKEN_BYTES = Buffer.from(TOKEN);
const INJECT_SIMPLE = buildMessage(0x51, Buffer.from(`${TOKEN}\0`));
/** The refusal of a statement sent behind an unsynced change of the session state it depends on. */
const pipelinedStateChange = (): ClientError =>
  clientErrors.denied(
    'session.pipelined_state_change',
    "a statement after one that changes search_path, prepared statements, cursors or the transaction must wait for that statement's Sync",
  );

const INJECT_EXTENDED = (() => {
  const body = Buffer.alloc(TOKEN_BYTES.length + 1 + 4);
  TOKEN_BYTES.copy(body, 0);
  return buildMessage(0x45, body);
})();

/** What the EXPLAIN guardrail runs for a statement: its text, and the portal's parameters when bound. */
function explainInput(
  s: AnalyzedStatement,
  portal: PortalEntry | undefined | null,
): { text: string; paramTypes?: Buffer; bind?: Buffer } {
  if (portal === undefined || portal === null) return { text: s.text };
  return { text: s.text, bind: portal.bind, paramTypes: portal.statement.paramTypes };
}

function buildMessage(type: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

const Q = 0x51;
const PARSE = 0x50;
const BIND = 0x42;
const EXECUTE = 0x45;
const CLOSE = 0x43;
const SYNC = 0x53;
const DESCRIBE = 0x44;
const FUNCTION_CALL = 0x46;

/** Masks all fields of rows whose description is unknown: NULL decodes as any type. */
const NULL_MASKER: Masker = { mask: () => null };
const MASK_EVERYTHING: FieldPlan = { methods: [], types: [], masked: ['*'], all: 'null' };

export class StatementGate {
  readonly #policy: GatePolicy;
  readonly #log: Logger;
  readonly #context: () => JudgeContext;
  readonly #onStatement: (event: StatementEvent) => void;
  #onDone: ((done: StatementDone) => void) | null = null;
  #maskingSlots = 0;
  /** Client Describes waiting for their RowDescription or NoData, in order. */
  readonly #describes: { readonly request: Request; readonly entry: PreparedEntry | null }[] = [];
  readonly #filter: ResultFilterDeps | null;
  /** Row estimates for the EXPLAIN guardrail; null: such statements are refused (fail closed). */
  readonly #explainer: Explainer | null;
  readonly #extended: ExtendedState;
  readonly #sql: SqlState;
  #discardUntilSync = false;
  readonly #tags = new TagReader();
  readonly #parses = new ParseReader();
  /** The extended-protocol batch that the next Sync ends (not yet sent upstream as a request). */
  #batch: Request = newRequest();
  /** One entry per request sent upstream (Query, Sync, FunctionCall), answered by one ReadyForQuery. */
  readonly #requests: Request[] = [];
  /** Denials waiting for their injected error, in request order. */
  readonly #denials: { request: Request; error: ClientError }[] = [];
  /** Sends an asynchronous message (NoticeResponse) to the client. */
  #notice: ((bytes: Buffer) => void) | null = null;
  /** The wait of a statement held for approval, which a CancelRequest ends. */
  #hold: AbortController | null = null;
  /** The last analysis, for the same text again (see #analyze). */
  /**
   * Requests in flight with a statement that changes what later statements mean (search_path, prepared
   * statements, cursors, transaction end). SECURITY: a later statement is analyzed only once they are
   * done, so it is never judged against session state that is about to change under it.
   */
  readonly #stateChanging = new Set<Request>();
  #stateSettled: { promise: Promise<void>; resolve: () => void } | null = null;
  #lastAnalysis: {
    readonly text: string;
    readonly context: AnalyzeContext;
    readonly statements: readonly AnalyzedStatement[];
  } | null = null;

  constructor(
    policy: GatePolicy,
    log: Logger,
    searchPath: readonly string[],
    context: () => JudgeContext,
    onStatement: (event: StatementEvent) => void,
    explainer: Explainer | null = null,
    filter: ResultFilterDeps | null = null,
  ) {
    this.#explainer = explainer;
    this.#filter = filter;
    this.#policy = policy;
    this.#log = log;
    this.#context = context;
    this.#onStatement = onStatement;
    this.#extended = new ExtendedState(policy.maxNamed);
    this.#sql = new SqlState(
      policy.analyzer,
      searchPath,
      () => this.#extended.reset(),
      (effect) => this.#log.warn('unknown analyzer effect', { effect }),
    );
  }

  /** Releases per-session resources (the EXPLAIN side connection). */
  close(): void {
    this.#explainer?.close();
    this.cancelHold();
    // SECURITY: a session that ends with requests in flight still leaves a record of each statement,
    // with whatever answers arrived (audit completeness does not depend on the client waiting).
    for (const request of this.#requests.splice(0)) this.#emitDone(request);
    this.#emitDone(this.#batch);
    this.#batch = newRequest();
  }

  /** Where notices to the client go (the session wires it). */
  set onNotice(send: (bytes: Buffer) => void) {
    this.#notice = send;
  }

  /** Ends the wait of a statement held for approval (it fails with 57014); false when none is held. */
  cancelHold(): boolean {
    const hold = this.#hold;
    if (hold === null) return false;
    this.#hold = null;
    hold.abort();
    return true;
  }

  get searchPath(): readonly string[] {
    return this.#sql.searchPath;
  }

  /** Client → upstream: decides what happens to one frontend message. */
  onClientMessage(type: number, body: Buffer): GateAction {
    return this.onClientMessageAt(type, body, 0, body.length);
  }

  /**
   * onClientMessage for a message whose body is `src[start, end)`, as the framer found it: valid during
   * the call only (whatever the gate keeps, it copies).
   */
  onClientMessageAt(type: number, src: Buffer, start: number, end: number): GateAction {
    if (this.#discardUntilSync) {
      if (type !== SYNC) return DROP;
      this.#discardUntilSync = false;
    }
    switch (type) {
      case Q:
        return this.#query(src, start, end);
      case PARSE:
        return this.#parse(src, start, end);
      case BIND:
        return this.#bind(src, start, end);
      case EXECUTE:
        return this.#execute(src, start, end);
      case CLOSE: {
        const close = decodeCloseOrDescribe(src, start, end);
        if (close === null) return this.#malformed('Close');
        this.#extended.close(this.#batch, close.kind, close.name);
        return FORWARD;
      }
      case DESCRIBE: {
        const describe = decodeCloseOrDescribe(src, start, end);
        if (describe === null) return this.#malformed('Describe');
        const entry =
          describe.kind === 'S'
            ? (this.#extended.statement(describe.name) ?? null)
            : (this.#extended.portal(describe.name)?.statement ?? null);
        this.#describes.push({ request: this.#batch, entry });
        return FORWARD;
      }
      case SYNC:
        this.#requests.push(this.#batch);
        this.#batch = newRequest();
        return FORWARD;
      case FUNCTION_CALL: {
        // The fast-path function call names a function by OID and cannot be analyzed: always denied.
        const request: Request = newRequest();
        this.#requests.push(request);
        this.#openSlot(request, null);
        return this.#deny(request, clientErrors.functionCallDenied(), INJECT_SIMPLE);
      }
      default:
        return FORWARD;
    }
  }

  /** Receives completed statements, for audit. */
  set onDone(listener: (done: StatementDone) => void) {
    this.#onDone = listener;
  }

  /** Upstream → client ErrorResponse: returns the replacement when it is the answer to a denial. */
  onServerError(body: Buffer): Buffer | null {
    // The answer belongs to the oldest request in flight, or to the open batch (after a Flush).
    const request = this.#requests[0] ?? this.#batch;
    request.failed = true;
    let replacement: Buffer | null = null;
    let sqlstate = sqlstateOf(body);
    if (body.indexOf(TOKEN_BYTES) >= 0) {
      const denial = this.#denials.shift();
      if (denial !== undefined) {
        replacement = denial.error.bytes;
        sqlstate = denial.error.sqlstate;
      }
    }
    const slot = this.#answering(request);
    // SECURITY: the server quotes values in error text (casts, constraint details): a statement with a
    // mask plan gets its error with that text withheld, and no constraint violation shows its row.
    if (replacement === null && slot?.event?.verdict.allow === true) {
      if (hasMask(slot.event.verdict)) replacement = maskErrorResponse(body);
      else if (isIntegrityViolation(sqlstate)) replacement = withholdRowDetail(body);
    }
    if (slot !== undefined) {
      addResult(slot, { tag: null, rows: null, sqlstate });
      // After an error nothing more of this request runs.
      for (const s of request.slots) s.closed = true;
    }
    return replacement;
  }

  /**
   * Upstream → client CommandComplete ('C'), EmptyQueryResponse ('I') or PortalSuspended ('s'), whose
   * body is `src[start, end)`.
   */
  onServerCompletion(type: number, src: Buffer, start: number, end: number): void {
    const request = this.#requests[0] ?? this.#batch;
    const slot = this.#answering(request);
    if (slot === undefined) return;
    if (type === 0x43) {
      const tags = this.#tags;
      tags.read(src, start, end);
      addResult(slot, tags.result);
      // The statement succeeded: its effects on session state hold from now on.
      const statement = slot.event?.verdict.allow
        ? slot.event.statements[slot.results.length - 1]
        : undefined;
      if (statement !== undefined) this.#sql.applyStatement(request, statement);
    } else {
      addResult(slot, type === 0x49 ? EMPTY_RESULT : SUSPENDED_RESULT);
    }
    const expected = slot.event?.protocol === 'simple' ? slot.event.statements.length : 1;
    if (slot.results.length >= expected) slot.closed = true;
  }

  /**
   * Upstream RowDescription, body `src[start, end)`: for a simple query it describes the statement
   * answering now; otherwise it answers the oldest Describe.
   */
  onServerRowDescription(src: Buffer, start: number, end: number): void {
    const slot = this.#answering(this.#requests[0] ?? this.#batch);
    if (slot !== undefined && slot.event?.protocol === 'simple') {
      // Only a masked result needs its description later; the others pass untouched.
      slot.rowDescription = hasMask(slot.event.verdict) ? copyOf(src, start, end) : null;
      slot.fieldPlan = undefined;
      slot.originsChecked = false;
      return;
    }
    const describe = this.#describes.shift();
    if (describe?.entry != null) describe.entry.rowDescription = copyOf(src, start, end);
  }

  /** Upstream NoData: answers the oldest Describe. */
  onServerNoData(): void {
    const describe = this.#describes.shift();
    if (describe?.entry != null) describe.entry.rowDescription = null;
  }

  /** True while a request whose decision masks columns is in flight: rows must be inspected. */
  get masking(): boolean {
    return this.#maskingSlots > 0;
  }

  /**
   * The field plan for the DataRows now arriving: null when nothing is masked, or a promise when origins
   * must first be loaded from the catalog (call again once it settles).
   */
  rowPlan(): FieldPlan | null | Promise<void> {
    const slot = this.#answering(this.#requests[0] ?? this.#batch);
    if (slot === undefined || slot.event === null) return null;
    // Per row: the plan computed for this result set answers at once.
    if (slot.fieldPlan !== undefined) return slot.fieldPlan;
    const mask = slot.event.verdict.mask as Readonly<Record<string, MaskMethod>>;
    if (Object.keys(mask).length === 0) {
      slot.fieldPlan = null;
      return null;
    }
    const description =
      slot.event.protocol === 'simple' ? slot.rowDescription : (slot.entry?.rowDescription ?? null);
    if (description === null || description === undefined) {
      // SECURITY: rows whose shape the gateway never saw are masked whole.
      slot.fieldPlan = MASK_EVERYTHING;
      markMasked(slot, '*');
      return MASK_EVERYTHING;
    }
    const fields = parseRowDescription(description);
    const origins = this.#filter?.origins;
    if (origins === undefined) {
      slot.fieldPlan = MASK_EVERYTHING;
      return MASK_EVERYTHING;
    }
    const missing = missingOrigins(fields, origins);
    if (missing.length > 0) return origins.load(missing);
    const statement =
      slot.event.statements[Math.min(slot.results.length, slot.event.statements.length - 1)];
    const outputs =
      (statement as { outputs?: readonly OutputLineage[] | null } | undefined)?.outputs ?? null;
    if (!slot.originsChecked) {
      slot.originsChecked = true;
      // SECURITY: DDL on a connection the gateway never saw may have moved columns; a description
      // that contradicts the cached origins reloads them once before anything is planned.
      if (staleOrigins(fields, outputs, origins).length > 0) {
        origins.invalidate();
        return origins.load(fields.map((f) => f.tableOid).filter((oid) => oid !== 0));
      }
    }
    const plan = planFields(fields, mask, outputs, origins);
    slot.fieldPlan = plan;
    if (plan !== null) for (const m of plan.masked) markMasked(slot, m);
    return plan;
  }

  /**
   * The plan for the COPY TO STDOUT data now starting (CopyOutResponse body given): null when nothing is
   * masked, or a promise while the table's columns are read from the catalog (call again once it settles).
   */
  copyPlan(response: Buffer): CopyPlan | null | Promise<void> {
    const slot = this.#answering(this.#requests[0] ?? this.#batch);
    if (slot === undefined || slot.event === null) return null;
    const mask = slot.event.verdict.mask as Readonly<Record<string, MaskMethod>>;
    if (Object.keys(mask).length === 0) return null;
    if (slot.copyPlan !== undefined) return slot.copyPlan;
    const statement =
      slot.event.statements[Math.min(slot.results.length, slot.event.statements.length - 1)];
    const columns = response.readInt16BE(1);
    const format = statement === undefined ? null : copyFormatOf(statement.text);
    const outputs =
      (statement as { outputs?: readonly OutputLineage[] | null } | undefined)?.outputs ?? null;
    const all = (f: CopyFormat): CopyPlan => {
      markMasked(slot, '*');
      return { format: f, methods: [], all: true, headerPending: f.header };
    };
    if (format === null) {
      // SECURITY: a COPY whose format the gateway cannot read is masked whole; binary is the safe guess.
      slot.copyPlan = all({
        format: response[0] === 1 ? 'binary' : 'text',
        delimiter: '\t',
        nullString: '\\N',
        quote: '"',
        escape: '"',
        header: false,
      });
      return slot.copyPlan;
    }
    const origins = this.#filter?.origins;
    if (outputs === null || origins === undefined) {
      slot.copyPlan = all(format);
      return slot.copyPlan;
    }
    return expandStars(outputs, origins).then((expanded) => {
      if (expanded === null || expanded.length !== columns) {
        slot.copyPlan = all(format);
        return;
      }
      const methods = expanded.map((o) => lineageMethod(o, mask));
      expanded.forEach((o, i) => {
        if (methods[i] !== null)
          markMasked(slot, o.kind === 'column' ? o.source : `output:${i + 1}`);
      });
      slot.copyPlan = methods.every((m) => m === null)
        ? null
        : { format, methods, all: false, headerPending: format.header };
    });
  }

  /** Rewrites one CopyData body per the plan; null keeps the original. */
  maskCopy(body: Buffer, plan: CopyPlan): Buffer | null {
    return maskCopyData(body, plan, this.#filter?.masker ?? NULL_MASKER);
  }

  /**
   * Writes the DataRows `src[start, end)` (whole messages) rewritten per the plan rowPlan() returned into
   * `out`; false when a row is malformed (it is not written).
   */
  maskRows(src: Buffer, start: number, end: number, plan: FieldPlan, out: RowSink): boolean {
    // A plan exists only when a filter does (rowPlan returns MASK_EVERYTHING otherwise, which needs no masker).
    return writeMaskedRows(src, start, end, plan, this.#filter?.masker ?? NULL_MASKER, out);
  }

  /** Upstream ParseComplete, BindComplete or CloseComplete: the oldest such operation took effect. */
  onServerAck(type: number): void {
    this.#extended.confirm(type);
  }

  /** The slot the next answer belongs to: the first one still open. */
  #answering(request: Request): Slot | undefined {
    for (const slot of request.slots) if (!slot.closed) return slot;
    return undefined;
  }

  #openSlot(
    request: Request,
    event: StatementEvent | null,
    entry: PreparedEntry | null = null,
  ): void {
    if (event?.verdict.allow === true && hasMask(event.verdict)) {
      this.#maskingSlots++;
    }
    addSlot(request, {
      event,
      startedAt: Date.now(),
      started: performance.now(),
      results: noResults(),
      closed: false,
      entry,
      rowDescription: null,
      fieldPlan: undefined,
      originsChecked: false,
      masked: null,
      copyPlan: undefined,
    });
  }

  #emitDone(request: Request): void {
    const listener = this.#onDone;
    const now = performance.now();
    for (const slot of request.slots) {
      if (slot.event?.verdict.allow === true && hasMask(slot.event.verdict)) {
        this.#maskingSlots--;
      }
      if (listener === null) continue;
      listener({
        event: slot.event,
        startedAt: slot.startedAt,
        durationMs: now - slot.started,
        results: slot.results,
        masked: slot.masked === null ? NOTHING_MASKED : [...slot.masked],
      });
    }
  }

  /** Upstream → client ReadyForQuery: one request is complete. */
  onReady(status: number): void {
    const request = this.#requests.shift();
    if (request !== undefined && this.#stateChanging.delete(request)) this.#settleState();
    if (request !== undefined) {
      this.#emitDone(request);
      while (this.#describes.length > 0 && this.#describes[0]!.request === request)
        this.#describes.shift();
      if (this.#filter !== null && request.slots.some(changesCatalog))
        this.#filter.origins.invalidate();
    }
    // A denial whose injected message was skipped (the batch failed earlier) is void now.
    while (this.#denials.length > 0 && this.#denials[0]!.request === request) this.#denials.shift();
    if (request !== undefined) this.#extended.endBatch(request);
    if (this.#sql.onReady(request, status)) this.#extended.endTransaction();
  }

  #query(src: Buffer, start: number, end: number): GateAction {
    const text = decodeQuery(src, start, end);
    if (text === null) return this.#malformed('Query');
    const request: Request = newRequest();
    this.#requests.push(request);
    if (this.#stateChanging.has(this.#batch)) {
      // A Query inside an extended batch not yet synced, after a state change in it: the batch cannot
      // finish before this message does, so waiting for it would never end.
      this.#openSlot(request, null);
      return this.#deny(request, pipelinedStateChange(), INJECT_SIMPLE);
    }
    if (this.#stateChanging.size > 0) {
      // An earlier request may still change search_path, prepared statements or cursors: wait for it.
      return this.#queryLater(text, request);
    }
    return this.#queryNow(text, request);
  }

  // The paths that wait (state changes, approvals, row estimates) create their closures in methods of
  // their own: a closure in a hot method would make V8 allocate its context on every call.

  #queryLater(text: string, request: Request): GateAction {
    return { type: 'Defer', action: this.#stateDone().then(() => this.#queryNow(text, request)) };
  }

  #queryNow(text: string, request: Request): GateAction {
    const statements = this.#analyze(text);
    if (statements.some(changesSessionState)) this.#stateChanging.add(request);
    return this.#decide(statements, 'simple', request, INJECT_SIMPLE, null);
  }

  /** Resolves once no request in flight can still change the session state analysis reads. */
  #stateDone(): Promise<void> {
    if (this.#stateChanging.size === 0) return Promise.resolve();
    if (this.#stateSettled === null) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#stateSettled = { promise, resolve };
    }
    return this.#stateSettled.promise;
  }

  #settleState(): void {
    if (this.#stateChanging.size > 0 || this.#stateSettled === null) return;
    const { resolve } = this.#stateSettled;
    this.#stateSettled = null;
    resolve();
  }

  /** Judges, runs the EXPLAIN guardrail when the decision asks for it, and returns the action. */
  #decide(
    statements: readonly AnalyzedStatement[],
    protocol: StatementEvent['protocol'],
    request: Request,
    inject: Buffer,
    /** Extended protocol: the portal the Execute runs (its parameters feed the EXPLAIN), if known. */
    portal: PortalEntry | undefined | null,
    wait = true,
  ): GateAction {
    const entry = portal?.statement ?? null;
    const verdict = this.#policy.judge.judge(statements, this.#context());
    if (wait && this.#waitsForApproval(verdict))
      return this.#decideOnApproval({ statements, verdict, protocol, request, inject, portal });
    if (!verdict.allow || verdict.explain.length === 0)
      return this.#settle(statements, verdict, protocol, request, inject, entry);
    return {
      type: 'Defer',
      action: this.#estimated({ statements, verdict, protocol, request, inject, portal }),
    };
  }

  #decideOnApproval(deciding: Deciding): GateAction {
    const { statements, verdict, protocol, request, inject, portal } = deciding;
    const entry = portal?.statement ?? null;
    return this.#awaitApproval(
      statements,
      verdict,
      () => this.#decide(statements, protocol, request, inject, portal, false),
      (error) => this.#settle(statements, verdict, protocol, request, inject, entry, error),
    );
  }

  /** The row-estimate guardrail: EXPLAIN each statement it names, then judge again with the estimates. */
  async #estimated(deciding: Deciding): Promise<GateAction> {
    const { statements, verdict, protocol, request, inject, portal } = deciding;
    const entry = portal?.statement ?? null;
    const explainer = this.#explainer;
    const revised = [...statements];
    for (const { index } of verdict.explain) {
      const s = statements[index]!;
      let rows: number;
      try {
        if (explainer === null) throw new Error('no explainer configured');
        const input = explainInput(s, portal);
        const target = explainTarget(input.text, s.facts.flags, (name) =>
          this.#sql.preparedText(name),
        );
        // A PREPARE runs nothing now: its EXECUTE is estimated when it comes.
        if (target === null) continue;
        if (target === undefined) throw new Error('no EXPLAIN target for this statement');
        rows = await explainer.estimate({
          ...input,
          text: target.text,
          ...(target.prelude !== undefined ? { prelude: target.prelude } : {}),
          searchPath: this.searchPath,
        });
      } catch (err) {
        this.#log.warn('row estimate failed', { err });
        const denied = unestimated(verdict, index);
        return this.#settle(statements, denied, protocol, request, inject, entry);
      }
      // The estimate is part of the facts now, and of the decision cache's key: a statement of this
      // shape is judged again for any other estimate.
      revised[index] = { ...s, facts: withEstimate(s.facts, rows) };
    }
    const final = this.#policy.judge.judge(revised, this.#context());
    return this.#settle(revised, final, protocol, request, inject, entry);
  }

  #settle(
    statements: readonly AnalyzedStatement[],
    decided: Verdict,
    protocol: StatementEvent['protocol'],
    request: Request,
    inject: Buffer,
    entry: PreparedEntry | null,
    cancelled: ClientError | null = null,
  ): GateAction {
    let verdict = decided;
    // SECURITY: in audit fail-closed mode nothing runs while the audit trail cannot take its record.
    if (verdict.allow && this.#policy.admit !== undefined && !this.#policy.admit()) {
      verdict = {
        ...verdict,
        allow: false,
        outcome: 'blocked',
        denial: {
          rule: 'audit.unavailable',
          message: 'the audit trail cannot record statements right now',
        },
      };
    }
    const desk = this.#policy.approvals;
    if (desk === undefined || cancelled !== null)
      return this.#enforce(statements, verdict, null, protocol, request, inject, entry, cancelled);
    const reviewed = desk.review(statements, verdict, this.#context());
    // Counting an approval's use in another process (the cluster primary) holds the request until
    // the count is confirmed or refused; later messages wait behind it, in order.
    if (reviewed instanceof Promise)
      return this.#enforceReviewed(reviewed, statements, protocol, request, inject, entry);
    const { verdict: final, request: approval } = reviewed;
    return this.#enforce(statements, final, approval, protocol, request, inject, entry, null);
  }

  #enforceReviewed(
    reviewed: Promise<Reviewed>,
    statements: readonly AnalyzedStatement[],
    protocol: StatementEvent['protocol'],
    request: Request,
    inject: Buffer,
    entry: PreparedEntry | null,
  ): GateAction {
    const enforce = (r: Reviewed) =>
      this.#enforce(statements, r.verdict, r.request, protocol, request, inject, entry, null);
    return { type: 'Defer', action: reviewed.then(enforce) };
  }

  #enforce(
    statements: readonly AnalyzedStatement[],
    verdict: Verdict,
    approval: ApprovalReference | null,
    protocol: StatementEvent['protocol'],
    request: Request,
    inject: Buffer,
    entry: PreparedEntry | null,
    cancelled: ClientError | null,
  ): GateAction {
    const approvalRequest = approval && `${approval.id} (${approval.next})`;
    const event = { statements, verdict, protocol };
    this.#onStatement(event);
    this.#openSlot(request, event, entry);
    if (!verdict.allow) {
      if (protocol === 'extended') this.#discardUntilSync = true;
      return this.#deny(request, cancelled ?? this.#denialError(verdict, approvalRequest), inject);
    }
    return FORWARD;
  }

  #waitsForApproval(verdict: Verdict): boolean {
    return verdict.outcome === 'approval_required' && (this.#policy.approvals?.waitMs ?? 0) > 0;
  }

  /**
   * Wait mode: holds a statement awaiting approval (the client is told which request) until a served
   * bundle carries its approval, the wait ends (then it is decided again: refused), or the client
   * cancels (57014). `decide` decides it again without waiting.
   */
  #awaitApproval(
    statements: readonly AnalyzedStatement[],
    verdict: Verdict,
    decide: () => GateAction,
    cancel: (error: ClientError) => GateAction,
  ): GateAction {
    const desk = this.#policy.approvals!;
    const reviewed = desk.review(statements, verdict, this.#context());
    // A refusal for approval is reviewed at once (only an allowed request may wait on a count).
    const request = reviewed instanceof Promise ? null : reviewed.request;
    if (request === null || this.#hold !== null) return decide();
    this.#notice?.(desk.waitNotice(request));
    const hold = new AbortController();
    this.#hold = hold;
    const approved = () => this.#policy.judge.judge(statements, this.#context()).allow;
    const action = desk.wait(hold.signal, approved).then((outcome) => {
      if (this.#hold === hold) this.#hold = null;
      return outcome === 'cancelled' ? cancel(desk.cancelledError(request)) : decide();
    });
    return { type: 'Defer', action };
  }

  #parse(src: Buffer, start: number, end: number, wait = true): GateAction {
    const parse = this.#parses.read(src, start, end);
    if (parse === null) return this.#malformed('Parse');
    if (this.#stateChanging.has(this.#batch)) {
      // SECURITY: the server runs this after a statement of the same batch that changes session state,
      // before the batch's Sync lets that statement's outcome be known: analysis cannot follow it.
      this.#openSlot(this.#batch, null);
      return this.#deny(this.#batch, pipelinedStateChange(), INJECT_EXTENDED);
    }
    if (this.#stateChanging.size > 0) {
      // An earlier batch may still change the session state: analyze once it is done.
      return this.#parseLater(copyOf(src, start, end), wait);
    }
    const statements = this.#analyze(parse.text);
    if (statements.some(changesSessionState)) this.#stateChanging.add(this.#batch);
    // SECURITY: judged already at Parse, so a statement the policy refuses never reaches the server's
    // parser: its errors (unknown column, missing table) would tell what exists outside the grant.
    const verdict = this.#policy.judge.judge(statements, this.#context());
    if (!verdict.allow) {
      if (wait && this.#waitsForApproval(verdict))
        return this.#parseOnApproval(copyOf(src, start, end), statements, verdict);
      return this.#settle(statements, verdict, 'extended', this.#batch, INJECT_EXTENDED, null);
    }
    const entry: PreparedEntry = {
      text: parse.text,
      statements,
      paramTypes: parse.paramTypes,
      searchPath: this.searchPath,
    };
    if (!this.#extended.parse(this.#batch, parse.name, entry)) {
      return { type: 'Fatal', error: clientErrors.tooManyNamedObjects() };
    }
    return FORWARD;
  }

  #parseLater(kept: Buffer, wait: boolean): GateAction {
    return {
      type: 'Defer',
      action: this.#stateDone().then(() => this.#parse(kept, 0, kept.length, wait)),
    };
  }

  #parseOnApproval(
    kept: Buffer,
    statements: readonly AnalyzedStatement[],
    verdict: Verdict,
  ): GateAction {
    const cancel = (error: ClientError) =>
      this.#settle(statements, verdict, 'extended', this.#batch, INJECT_EXTENDED, null, error);
    const decide = () => this.#parse(kept, 0, kept.length, false);
    return this.#awaitApproval(statements, verdict, decide, cancel);
  }

  #bind(src: Buffer, start: number, end: number): GateAction {
    const bind = decodeBind(src, start, end);
    if (bind === null) return this.#malformed('Bind');
    if (!this.#extended.bind(this.#batch, bind.portal, bind.statement, src, start, end)) {
      return { type: 'Fatal', error: clientErrors.tooManyNamedObjects() };
    }
    return FORWARD;
  }

  #execute(src: Buffer, start: number, end: number): GateAction {
    const execute = decodeExecute(src, start, end);
    if (execute === null) return this.#malformed('Execute');
    const portal = this.#extended.portal(execute.portal);
    let statements: readonly AnalyzedStatement[];
    if (portal !== undefined) {
      statements = portal.statement.statements;
      if (!samePath(portal.statement.searchPath, this.searchPath)) {
        // The server resolves the statement's names again under the new search_path: so does the gate.
        statements = this.#analyze(portal.statement.text);
      }
    } else {
      const cursor = this.#sql.cursor(execute.portal);
      // Unknown portal: PostgreSQL answers with an error and runs nothing.
      if (cursor === undefined) {
        this.#openSlot(this.#batch, null);
        return FORWARD;
      }
      statements = [asStatement(cursor)];
    }
    return this.#decide(statements, 'extended', this.#batch, INJECT_EXTENDED, portal);
  }

  #deny(request: Request, error: ClientError, inject: Buffer): GateAction {
    this.#denials.push({ request, error });
    return { type: 'Replace', bytes: inject };
  }

  #denialError(verdict: Verdict, approvalRequest: string | null = null): ClientError {
    const reason = verdict.denial ?? { rule: 'policy.denied', message: 'denied by policy' };
    return verdict.outcome === 'approval_required'
      ? clientErrors.approvalRequired(reason.rule, reason.message, approvalRequest)
      : clientErrors.denied(reason.rule, reason.message);
  }

  #malformed(what: string): GateAction {
    return { type: 'Fatal', error: clientErrors.protocolViolation(`malformed ${what} message`) };
  }

  /**
   * Analyzes `text` in the session's current context. The same text again under the same context (a
   * driver's unnamed Parse of one query, over and over) reuses the last analysis, provided it asked for
   * no SQL-level prepared statement or cursor (those may have changed since): the analyzer would answer
   * the same.
   */
  #analyze(text: string): readonly AnalyzedStatement[] {
    const context = this.#sql.analyzeContext();
    const last = this.#lastAnalysis;
    if (last !== null && last.context === context && last.text === text) return last.statements;
    const lookups = this.#sql.lookups;
    const { statements } = this.#policy.analyzer.analyze(text, context);
    this.#lastAnalysis = this.#sql.lookups === lookups ? { text, context, statements } : null;
    return statements;
  }
}
