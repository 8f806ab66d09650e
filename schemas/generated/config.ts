// Generated from schemas/config.schema.json by scripts/gen-types.mjs; do not edit.

/**
 * A secret is never inline: it names an environment variable or a file.
 */
export type SecretRef =
  | {
      env: string;
    }
  | {
      file: string;
    };

/**
 * The gateway's one configuration file. Defaults live here and only here.
 */
export interface PgwardConfig {
  $schema?: string;
  listen?: {
    /**
     * Address the wire listener binds.
     */
    host?: string;
    /**
     * Port of the wire listener; 0 picks a free port.
     */
    port?: number;
  };
  /**
   * The HTTP API: health, metrics, credentials, the policy webhook, approvals and the auditor API with its web view.
   */
  api?: {
    enabled?: boolean;
    /**
     * Address the HTTP API binds.
     */
    host?: string;
    /**
     * Port of the HTTP API; 0 picks a free port.
     */
    port?: number;
    /**
     * OIDC group whose members may read the audit API.
     */
    auditor_group?: string;
  };
  /**
   * Server certificate offered to clients that send SSLRequest. Without it SSLRequest is answered 'N'.
   */
  tls?: {
    cert: SecretRef;
    key: SecretRef;
    /**
     * Refuse clients that do not upgrade to TLS.
     */
    required?: boolean;
  };
  auth?: {
    /**
     * Accept the password message over a non-TLS socket when the client is on a loopback address.
     */
    allow_cleartext_on_loopback?: boolean;
    /**
     * Development identities with static passwords.
     */
    users?: {
      name: string;
      password: SecretRef;
      groups?: string[];
    }[];
  };
  /**
   * Who a client is: an OIDC access token (JWT or opaque) or a pgward credential presented as the password. Static users in auth.users keep working alongside.
   */
  identity?: {
    /**
     * The OpenID Provider whose access tokens are accepted. Its metadata comes from discovery and its keys from the jwks_uri found there.
     */
    oidc?: {
      /**
       * Issuer identifier; discovery reads <issuer>/.well-known/openid-configuration. http:// is accepted only for a loopback host.
       */
      issuer: string;
      /**
       * The aud every token must carry: this gateway's resource indicator.
       */
      audience: string;
      /**
       * Accepted JWS algorithms. 'none' and the symmetric HS* algorithms are never accepted.
       *
       * @minItems 1
       */
      algorithms?: (
        'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA'
      )[];
      /**
       * Claim holding the caller's groups: a claim name, or a dotted path into nested claims (realm_access.roles).
       */
      groups_claim?: string;
      /**
       * Allowed clock skew when checking exp and nbf.
       */
      clock_tolerance_s?: number;
      /**
       * Timeout of each discovery, JWKS and introspection request.
       */
      fetch_timeout_ms?: number;
      /**
       * A token whose kid is not in the cached keys refetches the JWKS at most once per cooldown; so does a failed discovery.
       */
      jwks_cooldown_ms?: number;
      /**
       * Cached keys older than this are refetched on the next verification.
       */
      jwks_refresh_ms?: number;
      /**
       * While the IdP is unreachable, cached keys keep working until they are this old; then every token is refused.
       */
      jwks_max_age_ms?: number;
      /**
       * RFC 7662 introspection of opaque access tokens, authenticated with these client credentials (client_secret_basic).
       */
      introspection?: {
        client_id: string;
        client_secret: SecretRef;
      };
    };
    /**
     * pgward credentials: short-lived EdDSA-signed tokens minted by POST /v1/credentials and verified offline by every replica holding the public key. signing_key (PEM PKCS#8 Ed25519 private key) mints them and verifies them too; a replica that only verifies lists the public keys in verify_keys. At least one of the two is required.
     */
    credentials?: {
      signing_key?: SecretRef;
      /**
       * PEM (SPKI) Ed25519 public keys accepted besides the signing key's own: for replicas that only verify, and for key rotation.
       */
      verify_keys?: SecretRef[];
      /**
       * Longest credential lifetime; a credential also never outlives the caller's grants.
       */
      max_ttl_s?: number;
      /**
       * Host written into connection strings; defaults to listen.host.
       */
      public_host?: string;
      /**
       * Port written into connection strings; defaults to listen.port.
       */
      public_port?: number;
    };
  };
  /**
   * Registered upstream databases; the client's startup 'database' selects one by name.
   *
   * @minItems 1
   */
  upstreams: {
    name: string;
    host: string;
    port?: number;
    database: string;
    user: string;
    password?: SecretRef;
    tls?: {
      mode?: 'disable' | 'require' | 'verify-full';
      ca?: SecretRef;
      /**
       * Name checked against the certificate; defaults to host.
       */
      servername?: string;
    };
  }[];
  startup?: {
    /**
     * Startup parameters (also inside 'options') forwarded to the upstream; names are matched case-insensitively.
     */
    allowed_parameters?: string[];
    /**
     * search_path values a client may set at startup.
     */
    allowed_search_path?: string[];
  };
  /**
   * Where the compiled policy bundle comes from and how it is evaluated. Without a valid bundle every statement is denied.
   */
  policy: (
    | {
        [k: string]: unknown;
      }
    | {
        disabled: true;
      }
  ) & {
    /**
     * Directory holding a built bundle (manifest.json, policy.wasm, data.json), relative to the config file.
     */
    bundle_dir?: string;
    /**
     * Run as a transparent relay with no analysis or policy. For benchmarking and migration only; logged as a warning.
     */
    disabled?: boolean;
    /**
     * Cached decisions per worker (keyed by identity, bundle revision and the statement's literal-free form).
     */
    decision_cache_size?: number;
    /**
     * Cached statement analyses per worker, keyed by literal-free text.
     */
    analyzer_cache_size?: number;
    /**
     * Upper bound of the policy's WebAssembly memory in 64 KiB pages.
     */
    max_memory_pages?: number;
    /**
     * Prepared statements and portals one session may hold.
     */
    max_named_objects?: number;
    /**
     * Pull the compiled bundle from a branch of the policy repository: at start, every poll_ms, and on POST /v1/hooks/policy. A new bundle is verified and canary-checked before it is swapped in; a bad one is rejected and the last good one keeps serving. Takes precedence over bundle_dir.
     */
    git?: {
      /**
       * Git URL (https, ssh, file) or local path of the policy repository.
       */
      url: string;
      /**
       * Branch whose tip commit holds the bundle files (manifest.json, policy.wasm, data.json, canary.json) at its root.
       */
      branch?: string;
      /**
       * Interval between two fetches of the bundle branch.
       */
      poll_ms?: number;
      /**
       * Upper bound of one git command; a fetch that takes longer is killed and retried at the next poll.
       */
      timeout_ms?: number;
      /**
       * Directory the bundle branch is fetched into (one subdirectory per worker), relative to the config file.
       */
      workdir: string;
      /**
       * A secret is never inline: it names an environment variable or a file.
       */
      public_key?:
        | {
            env: string;
          }
        | {
            file: string;
          };
      /**
       * The key_id the bundle signature must name.
       */
      public_key_id?: string;
      /**
       * A secret is never inline: it names an environment variable or a file.
       */
      webhook_secret?:
        | {
            env: string;
          }
        | {
            file: string;
          };
    };
  };
  /**
   * How masked columns are rewritten in results.
   */
  masking?: {
    /**
     * A secret is never inline: it names an environment variable or a file.
     */
    hash_key?:
      | {
          env: string;
        }
      | {
          file: string;
        };
  };
  limits?: {
    max_startup_bytes?: number;
    /**
     * Largest password message (token or credential) accepted during login.
     */
    max_password_bytes?: number;
    /**
     * Largest frontend message accepted; checked before any byte of it is buffered.
     */
    max_message_bytes?: number;
    /**
     * Largest upstream message the gateway buffers when it must inspect it.
     */
    max_backend_message_bytes?: number;
    /**
     * Client connections per worker process.
     */
    max_connections?: number;
  };
  timeouts?: {
    login_ms?: number;
    /**
     * Close a session idle this long outside a transaction; 0 disables.
     */
    idle_ms?: number;
    upstream_connect_ms?: number;
    shutdown_ms?: number;
  };
  /**
   * Worker processes; 0 uses every core, 1 runs in one process.
   */
  workers?: number;
  log?: {
    level?: 'debug' | 'info' | 'warn' | 'error';
  };
  /**
   * Where statement and session records go. Without clickhouse_url they are stored by the embedded chDB engine.
   */
  audit?: {
    /**
     * Record statements and sessions. Turning it off is for benchmarking only: nothing is kept.
     */
    enabled?: boolean;
    /**
     * A secret is never inline: it names an environment variable or a file.
     */
    clickhouse_url?:
      | {
          env: string;
        }
      | {
          file: string;
        };
    /**
     * Data directory of the embedded chDB store, relative to the config file.
     */
    chdb_path?: string;
    /**
     * ClickHouse database holding the audit tables.
     */
    database?: string;
    /**
     * Records older than this are removed by the table TTL.
     */
    retention_days?: number;
    /**
     * Records per insert at most. Every insert creates a storage part, so larger batches cost the store less CPU per record.
     */
    batch_size?: number;
    /**
     * Longest time a record waits in memory before its batch is sent.
     */
    flush_ms?: number;
    /**
     * Records held in memory; past it, batches go to the spool file instead of waiting.
     */
    queue_max?: number;
    /**
     * Directory of the append-only spool used while the store is unavailable, relative to the config file.
     */
    spool_dir?: string;
    /**
     * Spool size past which records are refused (fail_closed) or dropped and counted (fail open).
     */
    spool_max_bytes?: number;
    /**
     * Refuse statements while the spool is past spool_max_bytes instead of dropping their records.
     */
    fail_closed?: boolean;
    /**
     * Record statements with literals replaced by placeholders (normalized) or as sent (raw: literals, secrets included, land in the audit log).
     */
    statement_text?: 'normalized' | 'raw';
  };
  /**
   * Human approval: a statement whose decision says approval_required is refused with the id of an approval request, which the gateway files in the background as a branch <branch_prefix><id> holding approvals/<id>.json in the policy source repository (and a pull request when a GitHub repository is configured). Merging it and rebuilding the bundle lets the same identity run the exact same statement inside the window.
   */
  approvals?: {
    /**
     * Git URL (https, ssh, file) or local path of the policy SOURCE repository (where grants/ and approvals/ live, not the bundle branch), relative to the config file. The gateway needs push access to branches under branch_prefix.
     */
    repo: string;
    /**
     * Branch approval requests merge into; default the repository's default branch.
     */
    base?: string;
    /**
     * Request branches are named <branch_prefix><id>.
     */
    branch_prefix?: string;
    /**
     * Validity window an approval request asks for, from the moment it is filed (the policy's max_approval_lifetime_hours still applies).
     */
    window_minutes?: number;
    /**
     * Wait mode: hold a statement that awaits approval up to this long (re-judged at every bundle swap, cancellable by the client) instead of refusing it at once. 0 refuses at once.
     */
    wait_ms?: number;
    /**
     * Runs one approval allows across the gateway (all its workers); later runs are refused (rule approval.max_uses). Counted per approval and window in uses_path, so counts survive a restart and an approval issued again with a new window starts from zero. Unset: unlimited inside the window.
     */
    max_uses?: number;
    /**
     * File holding the runs counted against max_uses, relative to the config file; one gateway process (the primary, under workers) holds it, locked by <uses_path>.lock. Runs are forgotten a day after their approval's window ends. A file that cannot be read or written refuses every approved statement while max_uses is set.
     */
    uses_path?: string;
    /**
     * Upper bound of one git command while filing a request.
     */
    timeout_ms?: number;
    /**
     * Open a pull request for each filed request. Without it, the GITHUB_TOKEN and PGWARD_GITHUB_REPO (or GITHUB_REPOSITORY) of `pgward request` are used when set.
     */
    github?: {
      /**
       * owner/name of the policy repository on GitHub.
       */
      repo: string;
      /**
       * A secret is never inline: it names an environment variable or a file.
       */
      token:
        | {
            env: string;
          }
        | {
            file: string;
          };
      /**
       * GitHub REST API base URL (GitHub Enterprise: https://HOST/api/v3).
       */
      api_url?: string;
    };
  };
}

/**
 * The gateway's one configuration file. Defaults live here and only here.
 */
export interface PgwardConfigResolved {
  $schema?: string;
  listen: {
    /**
     * Address the wire listener binds.
     */
    host: string;
    /**
     * Port of the wire listener; 0 picks a free port.
     */
    port: number;
  };
  /**
   * The HTTP API: health, metrics, credentials, the policy webhook, approvals and the auditor API with its web view.
   */
  api: {
    enabled: boolean;
    /**
     * Address the HTTP API binds.
     */
    host: string;
    /**
     * Port of the HTTP API; 0 picks a free port.
     */
    port: number;
    /**
     * OIDC group whose members may read the audit API.
     */
    auditor_group: string;
  };
  /**
   * Server certificate offered to clients that send SSLRequest. Without it SSLRequest is answered 'N'.
   */
  tls?: {
    cert: SecretRef;
    key: SecretRef;
    /**
     * Refuse clients that do not upgrade to TLS.
     */
    required: boolean;
  };
  auth: {
    /**
     * Accept the password message over a non-TLS socket when the client is on a loopback address.
     */
    allow_cleartext_on_loopback: boolean;
    /**
     * Development identities with static passwords.
     */
    users: {
      name: string;
      password: SecretRef;
      groups: string[];
    }[];
  };
  /**
   * Who a client is: an OIDC access token (JWT or opaque) or a pgward credential presented as the password. Static users in auth.users keep working alongside.
   */
  identity: {
    /**
     * The OpenID Provider whose access tokens are accepted. Its metadata comes from discovery and its keys from the jwks_uri found there.
     */
    oidc?: {
      /**
       * Issuer identifier; discovery reads <issuer>/.well-known/openid-configuration. http:// is accepted only for a loopback host.
       */
      issuer: string;
      /**
       * The aud every token must carry: this gateway's resource indicator.
       */
      audience: string;
      /**
       * Accepted JWS algorithms. 'none' and the symmetric HS* algorithms are never accepted.
       *
       * @minItems 1
       */
      algorithms: ('RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA')[];
      /**
       * Claim holding the caller's groups: a claim name, or a dotted path into nested claims (realm_access.roles).
       */
      groups_claim: string;
      /**
       * Allowed clock skew when checking exp and nbf.
       */
      clock_tolerance_s: number;
      /**
       * Timeout of each discovery, JWKS and introspection request.
       */
      fetch_timeout_ms: number;
      /**
       * A token whose kid is not in the cached keys refetches the JWKS at most once per cooldown; so does a failed discovery.
       */
      jwks_cooldown_ms: number;
      /**
       * Cached keys older than this are refetched on the next verification.
       */
      jwks_refresh_ms: number;
      /**
       * While the IdP is unreachable, cached keys keep working until they are this old; then every token is refused.
       */
      jwks_max_age_ms: number;
      /**
       * RFC 7662 introspection of opaque access tokens, authenticated with these client credentials (client_secret_basic).
       */
      introspection?: {
        client_id: string;
        client_secret: SecretRef;
      };
    };
    /**
     * pgward credentials: short-lived EdDSA-signed tokens minted by POST /v1/credentials and verified offline by every replica holding the public key. signing_key (PEM PKCS#8 Ed25519 private key) mints them and verifies them too; a replica that only verifies lists the public keys in verify_keys. At least one of the two is required.
     */
    credentials?: {
      signing_key?: SecretRef;
      /**
       * PEM (SPKI) Ed25519 public keys accepted besides the signing key's own: for replicas that only verify, and for key rotation.
       */
      verify_keys?: SecretRef[];
      /**
       * Longest credential lifetime; a credential also never outlives the caller's grants.
       */
      max_ttl_s: number;
      /**
       * Host written into connection strings; defaults to listen.host.
       */
      public_host?: string;
      /**
       * Port written into connection strings; defaults to listen.port.
       */
      public_port?: number;
    };
  };
  /**
   * Registered upstream databases; the client's startup 'database' selects one by name.
   *
   * @minItems 1
   */
  upstreams: {
    name: string;
    host: string;
    port: number;
    database: string;
    user: string;
    password?: SecretRef;
    tls: {
      mode: 'disable' | 'require' | 'verify-full';
      ca?: SecretRef;
      /**
       * Name checked against the certificate; defaults to host.
       */
      servername?: string;
    };
  }[];
  startup: {
    /**
     * Startup parameters (also inside 'options') forwarded to the upstream; names are matched case-insensitively.
     */
    allowed_parameters: string[];
    /**
     * search_path values a client may set at startup.
     */
    allowed_search_path: string[];
  };
  /**
   * Where the compiled policy bundle comes from and how it is evaluated. Without a valid bundle every statement is denied.
   */
  policy: (
    | {
        [k: string]: unknown;
      }
    | {
        disabled: true;
      }
  ) & {
    /**
     * Directory holding a built bundle (manifest.json, policy.wasm, data.json), relative to the config file.
     */
    bundle_dir?: string;
    /**
     * Run as a transparent relay with no analysis or policy. For benchmarking and migration only; logged as a warning.
     */
    disabled: boolean;
    /**
     * Cached decisions per worker (keyed by identity, bundle revision and the statement's literal-free form).
     */
    decision_cache_size: number;
    /**
     * Cached statement analyses per worker, keyed by literal-free text.
     */
    analyzer_cache_size: number;
    /**
     * Upper bound of the policy's WebAssembly memory in 64 KiB pages.
     */
    max_memory_pages: number;
    /**
     * Prepared statements and portals one session may hold.
     */
    max_named_objects: number;
    /**
     * Pull the compiled bundle from a branch of the policy repository: at start, every poll_ms, and on POST /v1/hooks/policy. A new bundle is verified and canary-checked before it is swapped in; a bad one is rejected and the last good one keeps serving. Takes precedence over bundle_dir.
     */
    git?: {
      /**
       * Git URL (https, ssh, file) or local path of the policy repository.
       */
      url: string;
      /**
       * Branch whose tip commit holds the bundle files (manifest.json, policy.wasm, data.json, canary.json) at its root.
       */
      branch: string;
      /**
       * Interval between two fetches of the bundle branch.
       */
      poll_ms: number;
      /**
       * Upper bound of one git command; a fetch that takes longer is killed and retried at the next poll.
       */
      timeout_ms: number;
      /**
       * Directory the bundle branch is fetched into (one subdirectory per worker), relative to the config file.
       */
      workdir: string;
      /**
       * A secret is never inline: it names an environment variable or a file.
       */
      public_key?:
        | {
            env: string;
          }
        | {
            file: string;
          };
      /**
       * The key_id the bundle signature must name.
       */
      public_key_id: string;
      /**
       * A secret is never inline: it names an environment variable or a file.
       */
      webhook_secret?:
        | {
            env: string;
          }
        | {
            file: string;
          };
    };
  };
  /**
   * How masked columns are rewritten in results.
   */
  masking: {
    /**
     * A secret is never inline: it names an environment variable or a file.
     */
    hash_key?:
      | {
          env: string;
        }
      | {
          file: string;
        };
  };
  limits: {
    max_startup_bytes: number;
    /**
     * Largest password message (token or credential) accepted during login.
     */
    max_password_bytes: number;
    /**
     * Largest frontend message accepted; checked before any byte of it is buffered.
     */
    max_message_bytes: number;
    /**
     * Largest upstream message the gateway buffers when it must inspect it.
     */
    max_backend_message_bytes: number;
    /**
     * Client connections per worker process.
     */
    max_connections: number;
  };
  timeouts: {
    login_ms: number;
    /**
     * Close a session idle this long outside a transaction; 0 disables.
     */
    idle_ms: number;
    upstream_connect_ms: number;
    shutdown_ms: number;
  };
  /**
   * Worker processes; 0 uses every core, 1 runs in one process.
   */
  workers: number;
  log: {
    level: 'debug' | 'info' | 'warn' | 'error';
  };
  /**
   * Where statement and session records go. Without clickhouse_url they are stored by the embedded chDB engine.
   */
  audit: {
    /**
     * Record statements and sessions. Turning it off is for benchmarking only: nothing is kept.
     */
    enabled: boolean;
    /**
     * A secret is never inline: it names an environment variable or a file.
     */
    clickhouse_url?:
      | {
          env: string;
        }
      | {
          file: string;
        };
    /**
     * Data directory of the embedded chDB store, relative to the config file.
     */
    chdb_path: string;
    /**
     * ClickHouse database holding the audit tables.
     */
    database: string;
    /**
     * Records older than this are removed by the table TTL.
     */
    retention_days: number;
    /**
     * Records per insert at most. Every insert creates a storage part, so larger batches cost the store less CPU per record.
     */
    batch_size: number;
    /**
     * Longest time a record waits in memory before its batch is sent.
     */
    flush_ms: number;
    /**
     * Records held in memory; past it, batches go to the spool file instead of waiting.
     */
    queue_max: number;
    /**
     * Directory of the append-only spool used while the store is unavailable, relative to the config file.
     */
    spool_dir: string;
    /**
     * Spool size past which records are refused (fail_closed) or dropped and counted (fail open).
     */
    spool_max_bytes: number;
    /**
     * Refuse statements while the spool is past spool_max_bytes instead of dropping their records.
     */
    fail_closed: boolean;
    /**
     * Record statements with literals replaced by placeholders (normalized) or as sent (raw: literals, secrets included, land in the audit log).
     */
    statement_text: 'normalized' | 'raw';
  };
  /**
   * Human approval: a statement whose decision says approval_required is refused with the id of an approval request, which the gateway files in the background as a branch <branch_prefix><id> holding approvals/<id>.json in the policy source repository (and a pull request when a GitHub repository is configured). Merging it and rebuilding the bundle lets the same identity run the exact same statement inside the window.
   */
  approvals?: {
    /**
     * Git URL (https, ssh, file) or local path of the policy SOURCE repository (where grants/ and approvals/ live, not the bundle branch), relative to the config file. The gateway needs push access to branches under branch_prefix.
     */
    repo: string;
    /**
     * Branch approval requests merge into; default the repository's default branch.
     */
    base?: string;
    /**
     * Request branches are named <branch_prefix><id>.
     */
    branch_prefix: string;
    /**
     * Validity window an approval request asks for, from the moment it is filed (the policy's max_approval_lifetime_hours still applies).
     */
    window_minutes: number;
    /**
     * Wait mode: hold a statement that awaits approval up to this long (re-judged at every bundle swap, cancellable by the client) instead of refusing it at once. 0 refuses at once.
     */
    wait_ms: number;
    /**
     * Runs one approval allows across the gateway (all its workers); later runs are refused (rule approval.max_uses). Counted per approval and window in uses_path, so counts survive a restart and an approval issued again with a new window starts from zero. Unset: unlimited inside the window.
     */
    max_uses?: number;
    /**
     * File holding the runs counted against max_uses, relative to the config file; one gateway process (the primary, under workers) holds it, locked by <uses_path>.lock. Runs are forgotten a day after their approval's window ends. A file that cannot be read or written refuses every approved statement while max_uses is set.
     */
    uses_path: string;
    /**
     * Upper bound of one git command while filing a request.
     */
    timeout_ms: number;
    /**
     * Open a pull request for each filed request. Without it, the GITHUB_TOKEN and PGWARD_GITHUB_REPO (or GITHUB_REPOSITORY) of `pgward request` are used when set.
     */
    github?: {
      /**
       * owner/name of the policy repository on GitHub.
       */
      repo: string;
      /**
       * A secret is never inline: it names an environment variable or a file.
       */
      token:
        | {
            env: string;
          }
        | {
            file: string;
          };
      /**
       * GitHub REST API base URL (GitHub Enterprise: https://HOST/api/v3).
       */
      api_url: string;
    };
  };
}
