// An in-process OpenID Provider (oidc-provider) on port 0 for identity tests: client-credentials and
// device-code grants issuing JWT (or opaque) access tokens per resource indicator, a groups claim,
// introspection, key rotation, request counters, and a signer for hand-crafted bad tokens.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
// @ts-expect-error oidc-provider ships no type declarations; the shapes used here are typed below.
import { Provider as OidcProvider, errors as oidcErrors } from 'oidc-provider';

/** The slice of oidc-provider's API this harness uses. */
interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
  readonly DeviceCode: {
    findByUserCode(code: string): Promise<DeviceCode | undefined>;
  };
  readonly Grant: new (init: { accountId: string; clientId: string }) => Grant;
}
interface KoaContext {
  readonly path: string;
  body: unknown;
}
interface DeviceCode {
  readonly clientId: string;
  readonly params: { readonly scope?: string; readonly resource?: string | string[] };
  scope?: string;
  resource?: string | string[];
  grantId?: string;
  accountId?: string;
  authTime?: number;
  save(): Promise<unknown>;
}
interface Grant {
  addOIDCScope(scope: string): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}
const Provider = OidcProvider as new (issuer: string, config: unknown) => Provider;
const errors = oidcErrors as { InvalidTarget: new () => Error };

export const IDP_AUDIENCE = 'urn:pgward:gateway';
export const IDP_OTHER_AUDIENCE = 'urn:pgward:other-service';

/** Registered clients: `agent` gets JWT access tokens, `opaque` gets opaque ones. */
export const IDP_CLIENTS = {
  agent: { id: 'svc-agent', secret: 'agent-client-secret' },
  opaque: { id: 'svc-opaque', secret: 'opaque-client-secret' },
  gateway: { id: 'pgward-gateway', secret: 'gateway-introspection-secret' },
  cli: { id: 'pgward-cli' },
} as const;

export interface IdpOptions {
  /** Groups put in the `groups` claim, by subject (client id or device-flow account id). */
  readonly groups?: Readonly<Record<string, readonly string[]>>;
  /** Access token lifetime in seconds; also settable later through `accessTokenTtlS`. */
  readonly accessTokenTtlS?: number;
}

export interface IdpRequestCounts {
  jwks: number;
  discovery: number;
  introspection: number;
}

export interface TestIdp extends AsyncDisposable {
  readonly issuer: string;
  readonly requests: IdpRequestCounts;
  accessTokenTtlS: number;
  /** The signing key's public JWK (with kid and alg). */
  readonly publicJwk: JWK;
  /** A client-credentials access token for `resource` (default IDP_AUDIENCE). */
  token(client?: 'agent' | 'opaque', resource?: string): Promise<string>;
  /** Signs arbitrary claims with the IdP's current key (or the header's overrides) for crafted tokens. */
  sign(claims: JWTPayload, header?: { readonly kid?: string }): Promise<string>;
  /** Publishes a new signing key; the old one stays published unless `keepOld` is false. */
  rotateKeys(keepOld?: boolean): Promise<void>;
  /** Approves a pending device authorization as `accountId` (what a user does in the browser). */
  approveDevice(userCode: string, accountId: string): Promise<void>;
  close(): Promise<void>;
}

interface SigningKey {
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
  readonly key: CryptoKey;
}

let keyCounter = 0;
async function newSigningKey(): Promise<SigningKey> {
  const pair = await generateKeyPair('RS256', { extractable: true });
  const kid = `idp-key-${++keyCounter}-${Date.now().toString(36)}`;
  const meta = { kid, alg: 'RS256', use: 'sig' };
  return {
    privateJwk: { ...(await exportJWK(pair.privateKey)), ...meta },
    publicJwk: { ...(await exportJWK(pair.publicKey)), ...meta },
    key: pair.privateKey,
  };
}

export async function startIdp(options: IdpOptions = {}): Promise<TestIdp> {
  const requests: IdpRequestCounts = { jwks: 0, discovery: 0, introspection: 0 };
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/jwks') requests.jwks++;
    else if (path === '/.well-known/openid-configuration') requests.discovery++;
    else if (path === '/token/introspection') requests.introspection++;
    if (handler === null) res.writeHead(503).end();
    else handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const groups = options.groups ?? {};
  const state = { ttl: options.accessTokenTtlS ?? 300, keys: [await newSigningKey()] };
  const current = () => state.keys[0]!;

  const build = (): Provider => {
    const provider = new Provider(issuer, {
      clients: [
        clientCredentialsClient(IDP_CLIENTS.agent),
        clientCredentialsClient(IDP_CLIENTS.opaque),
        clientCredentialsClient(IDP_CLIENTS.gateway),
        {
          client_id: IDP_CLIENTS.cli.id,
          token_endpoint_auth_method: 'none',
          grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
          response_types: [],
          redirect_uris: [],
        },
      ],
      jwks: { keys: state.keys.map((k) => k.privateJwk) },
      scopes: ['openid', 'db'],
      cookies: { keys: ['idp-test-cookie-key'] },
      ttl: { ClientCredentials: () => state.ttl, AccessToken: () => state.ttl, DeviceCode: 600 },
      findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
      extraTokenClaims: (_ctx: unknown, token: { accountId?: string; clientId?: string }) => {
        const subject = token.accountId ?? token.clientId ?? '';
        return { groups: [...(groups[subject] ?? [])] };
      },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        deviceFlow: { enabled: true },
        // Any confidential client may introspect (the gateway is one); public clients only their own.
        introspection: {
          enabled: true,
          allowedPolicy: (ctx: { oidc: { client: { clientAuthMethod: string } } }) =>
            ctx.oidc.client.clientAuthMethod !== 'none',
        },
        resourceIndicators: {
          enabled: true,
          useGrantedResource: () => true,
          getResourceServerInfo: (
            _ctx: unknown,
            resource: string,
            client: { clientId: string },
          ) => {
            if (resource !== IDP_AUDIENCE && resource !== IDP_OTHER_AUDIENCE) {
              throw new errors.InvalidTarget();
            }
            const opaque = client.clientId === IDP_CLIENTS.opaque.id;
            return {
              scope: 'db',
              audience: resource,
              accessTokenTTL: state.ttl,
              accessTokenFormat: opaque ? 'opaque' : 'jwt',
              ...(opaque ? {} : { jwt: { sign: { alg: 'RS256', kid: current().publicJwk.kid } } }),
            };
          },
        },
      },
    });
    // A short polling interval keeps device-flow tests quick (RFC 8628 §3.2 lets the server choose it).
    provider.use(async (ctx, next) => {
      await next();
      const body = ctx.body as Record<string, unknown> | undefined;
      if (ctx.path === '/device/auth' && body !== undefined && 'device_code' in body) {
        ctx.body = { ...body, interval: 1 };
      }
    });
    return provider;
  };
  let provider = build();
  handler = provider.callback();

  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  return {
    issuer,
    requests,
    get accessTokenTtlS() {
      return state.ttl;
    },
    set accessTokenTtlS(value: number) {
      state.ttl = value;
    },
    get publicJwk() {
      return current().publicJwk;
    },
    async token(client = 'agent', resource = IDP_AUDIENCE) {
      const { id, secret } = IDP_CLIENTS[client];
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'db' }),
      });
      const body = (await res.json()) as { access_token?: string };
      if (!res.ok || body.access_token === undefined) {
        throw new Error(`IdP token request failed: ${res.status} ${JSON.stringify(body)}`);
      }
      return body.access_token;
    },
    sign(claims, header = {}) {
      const key = current();
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: header.kid ?? key.publicJwk.kid! })
        .sign(key.key);
    },
    async rotateKeys(keepOld = true) {
      const next = await newSigningKey();
      state.keys = keepOld ? [next, ...state.keys] : [next];
      // The default memory adapter is module-wide, so grants and codes survive the new instance.
      provider = build();
      handler = provider.callback();
    },
    async approveDevice(userCode, accountId) {
      // Stored as the verification page normalises what a user types: upper case, no separators.
      const normalized = userCode.toUpperCase().replace(/\W/g, '');
      const code = await provider.DeviceCode.findByUserCode(normalized);
      if (code === undefined) throw new Error(`no pending device authorization ${userCode}`);
      const grant = new provider.Grant({ accountId, clientId: code.clientId });
      grant.addOIDCScope('openid');
      grant.addResourceScope(IDP_AUDIENCE, 'db');
      code.grantId = await grant.save();
      // What the provider's own verification flow copies from the request onto the code.
      code.scope = code.params.scope ?? 'openid';
      if (code.params.resource !== undefined) code.resource = code.params.resource;
      code.accountId = accountId;
      code.authTime = Math.floor(Date.now() / 1000);
      await code.save();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function clientCredentialsClient(client: { readonly id: string; readonly secret: string }) {
  return {
    client_id: client.id,
    client_secret: client.secret,
    token_endpoint_auth_method: 'client_secret_basic' as const,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  };
}
