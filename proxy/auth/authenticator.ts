// The authenticator contract: a password message (token, credential or static password) becomes an Identity.
// Implementations are a discriminated union on `method` so the listener can tell what it runs.

export type IdentityVia = 'jwt' | 'introspection' | 'credential' | 'password';

export interface Identity {
  readonly sub: string;
  readonly groups: readonly string[];
  readonly issuer: string;
  readonly via: IdentityVia;
  /** Epoch milliseconds after which the session must end, or null when the secret does not expire. */
  readonly expiresAt: number | null;
  /**
   * The one registered database this identity may connect to (a pgward credential minted for it, whose
   * lifetime was bounded by that database's grants); absent: any database.
   */
  readonly database?: string;
}

export interface AuthRequest {
  /** The startup `user`: a hint only; the secret decides who the client is. */
  readonly userHint: string;
  readonly password: string;
  readonly clientAddr: string;
}

export type AuthResult =
  | { readonly ok: true; readonly identity: Identity }
  | { readonly ok: false; readonly reason: string };

export interface Authenticator {
  readonly method: 'static-password' | 'oidc' | 'chain';
  authenticate(request: AuthRequest): Promise<AuthResult>;
}
