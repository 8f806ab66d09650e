// TypeScript views of the policy contracts in schemas/ (policy input, decision, grant, approval,
// bundle manifest, canaries). The schemas are the source of truth; validators compile from them.

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A policy source commit sha (the bundle's revision), stamped on every audit record. */
export type BundleRevision = Brand<string, 'BundleRevision'>;
export type GrantId = Brand<string, 'GrantId'>;
export type ApprovalId = Brand<string, 'ApprovalId'>;
/** `schema.table.column` */
export type QualifiedColumn = Brand<string, 'QualifiedColumn'>;

/** @see schemas/policy-input.schema.json */
export interface PolicyInput {
  readonly identity: {
    readonly sub: string;
    readonly groups: readonly string[];
    readonly issuer: string;
    readonly via: 'jwt' | 'introspection' | 'credential' | 'password';
  };
  readonly session: {
    readonly id: string;
    readonly database: string;
    readonly application_name?: string;
    readonly client_addr?: string;
    readonly search_path?: readonly string[];
    readonly in_transaction?: boolean;
  };
  /** UTC RFC 3339 (`Date.prototype.toISOString`); the policy fails closed on other forms. */
  readonly now: string;
  readonly statement: {
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
      readonly action: 'insert' | 'update' | 'delete' | 'merge' | 'truncate' | 'copy_from';
      readonly has_where: boolean;
      readonly columns?: readonly string[];
    }[];
    readonly functions: readonly string[];
    /** @see schemas/policy-input.schema.json `definitions.flag` */
    readonly flags: readonly string[];
    readonly settings?: readonly {
      readonly name: string;
      readonly value?: string | null;
      readonly local?: boolean;
    }[];
    readonly objects?: readonly { readonly kind: string; readonly name: string }[];
    readonly estimated_rows?: number | null;
  };
}

export const OUTCOMES = ['allowed', 'masked', 'blocked', 'approval_required'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const MASK_METHODS = ['redact', 'null', 'hash', 'partial', 'email'] as const;
export type MaskMethod = (typeof MASK_METHODS)[number];

export interface DecisionReason {
  readonly rule: string;
  readonly message: string;
  /** false: a shadow rule, recorded as would-block and not enforced. */
  readonly enforce?: boolean;
}

/** @see schemas/decision.schema.json */
export interface Decision {
  readonly allow: boolean;
  readonly outcome: Outcome;
  readonly reasons: readonly DecisionReason[];
  readonly approval: {
    readonly required: boolean;
    readonly id: string | null;
    /** The window of the approval named by id (UTC seconds); runs are counted per id and window. */
    readonly not_before?: string;
    readonly expires_at?: string;
  };
  readonly mask: Readonly<Record<string, MaskMethod>>;
  readonly grant_ids: readonly string[];
  readonly limits: {
    readonly max_rows?: number | null;
    readonly explain_max_rows?: number | null;
  };
  /** A cached copy of this decision must not be used at or after this instant. */
  readonly valid_until?: string | null;
}

/** @see schemas/grant.schema.json */
export interface Grant {
  readonly id: string;
  readonly subject: { readonly sub: string } | { readonly group: string };
  readonly database: string;
  readonly objects: readonly {
    readonly schema: string;
    readonly table: string;
    readonly actions: readonly ('select' | 'insert' | 'update' | 'delete' | 'truncate' | 'copy')[];
  }[];
  readonly functions?: readonly string[];
  readonly mask_exempt?: readonly string[];
  readonly max_rows?: number;
  readonly not_before: string;
  readonly expires_at: string;
  readonly reason: string;
  readonly requester: string;
  readonly ticket?: string;
}

/** @see schemas/approval.schema.json */
export interface Approval {
  readonly id: string;
  readonly identity: { readonly sub: string };
  readonly database: string;
  readonly sql: string;
  readonly sha256: string;
  readonly fingerprint?: string;
  readonly requested_at?: string;
  readonly requester?: string;
  readonly reason?: string;
  readonly not_before: string;
  readonly expires_at: string;
}

export const BUNDLE_FILES = ['policy.wasm', 'data.json', 'canary.json'] as const;
export type BundleFileName = (typeof BUNDLE_FILES)[number];

/** @see schemas/bundle-manifest.schema.json */
export interface BundleManifest {
  readonly format: 1;
  readonly revision: BundleRevision;
  readonly built_at: string;
  readonly opa_version: string;
  readonly entrypoint: 'pgward/decision';
  readonly files: readonly {
    readonly path: BundleFileName;
    readonly sha256: string;
    readonly size: number;
  }[];
  readonly signature?: {
    readonly algorithm: 'ed25519';
    readonly key_id: string;
    readonly value: string;
  };
}

/** @see schemas/bundle-manifest.schema.json `definitions.canaries` */
export interface CanaryCase {
  readonly name: string;
  readonly input: PolicyInput;
  readonly expect: {
    readonly outcome: Outcome;
    readonly rules?: readonly string[];
    readonly mask?: Readonly<Record<string, MaskMethod>>;
  };
}

export interface Canaries {
  readonly cases: readonly CanaryCase[];
}

/** A problem found in a policy source or bundle: the file, the JSON pointer inside it, what. */
export interface PolicyProblem {
  readonly file: string;
  readonly pointer: string;
  readonly message: string;
}
