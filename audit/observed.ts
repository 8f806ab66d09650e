// What the audit module reads from the gateway, as plain structural types: the proxy's SessionInfo and
// StatementDone satisfy them without audit/ importing proxy/ (the import direction is audit ← proxy).

import type { IdentityVia } from './record.js';

/** @see proxy/session/session.ts `SessionInfo` */
export interface ObservedSession {
  readonly id: string;
  readonly identity: {
    readonly sub: string;
    readonly groups: readonly string[];
    readonly issuer: string;
    readonly via: IdentityVia;
  };
  readonly database: string;
  readonly applicationName: string;
  readonly clientAddr: string;
}

/** @see schemas/policy-input.schema.json `definitions.statementFacts` */
export interface ObservedFacts {
  readonly sha256: string;
  readonly fingerprint: string;
  readonly index: number;
  readonly count: number;
  readonly command: string;
  readonly reads: readonly {
    readonly schema: string;
    readonly table: string;
    readonly columns: readonly string[];
  }[];
  readonly writes: readonly {
    readonly schema: string;
    readonly table: string;
    readonly action: string;
    readonly has_where: boolean;
    readonly columns?: readonly string[];
  }[];
  readonly functions: readonly string[];
  readonly flags: readonly string[];
  readonly settings?: readonly {
    readonly name: string;
    readonly value?: string | null;
    readonly local?: boolean;
  }[];
  readonly objects?: readonly { readonly kind: string; readonly name: string }[];
  readonly estimated_rows: number | null;
}

/** @see proxy/analyzer/facts.ts `AnalyzedStatement` */
export interface ObservedStatement {
  readonly facts: ObservedFacts;
  /** As sent, literals included. */
  readonly text: string;
  /** Every literal replaced by a `$n` placeholder. */
  readonly normalized: string;
}

/** @see schemas/decision.schema.json */
export interface ObservedDecision {
  readonly outcome: string;
  readonly allow: boolean;
  readonly reasons: readonly {
    readonly rule: string;
    readonly message: string;
    readonly enforce?: boolean;
  }[];
  readonly approval: { readonly required: boolean; readonly id: string | null };
  readonly mask: Readonly<Record<string, string>>;
  readonly grant_ids: readonly string[];
}

/** @see proxy/decider/judge.ts `Verdict` */
export interface ObservedVerdict {
  readonly outcome: string;
  readonly allow: boolean;
  readonly decisions: readonly ObservedDecision[];
  readonly denial: { readonly rule: string; readonly message: string } | null;
  readonly wouldBlock: readonly { readonly rule: string }[];
  readonly mask: Readonly<Record<string, string>>;
  readonly revision: string | null;
}

/** @see proxy/session/gate.ts `StatementDone` */
export interface ObservedRequest {
  readonly event: {
    readonly statements: readonly ObservedStatement[];
    readonly verdict: ObservedVerdict;
    readonly protocol: 'simple' | 'extended' | 'function';
  } | null;
  /** Epoch milliseconds when the request was judged. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** One per statement that answered, in order; fewer than statements when one failed. */
  readonly results: readonly {
    readonly tag: string | null;
    readonly rows: number | null;
    readonly sqlstate: string | null;
  }[];
}

export interface SessionOpenDetails {
  readonly tls: boolean;
}

/** @see proxy/gateway.ts `SessionCloseDetails` */
export interface SessionCloseDetails {
  readonly reason: string;
  readonly sqlstate: string | null;
  readonly bytesIn: number;
  readonly bytesOut: number;
}
