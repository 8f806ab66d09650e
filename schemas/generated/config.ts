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
}
