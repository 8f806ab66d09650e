// A development OpenID Provider for the demo (oidc-provider, in process, on loopback): the OAuth 2.0
// client-credentials grant issues JWT access tokens for the demo's service identities, with their
// groups in a `groups` claim. It exists so the demo exercises the same OIDC path as production.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
// @ts-expect-error oidc-provider ships no type declarations; the slice used here is typed below.
import { Provider as OidcProvider } from 'oidc-provider';

interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
const Provider = OidcProvider as new (issuer: string, config: unknown) => Provider;

export interface DemoClient {
  /** The client id, which is also the token's `sub`. */
  readonly id: string;
  readonly groups: readonly string[];
  readonly description: string;
}

export interface DevIdp extends AsyncDisposable {
  readonly issuer: string;
  readonly audience: string;
  /** A client-credentials access token (JWT) for one demo client. */
  token(clientId: string): Promise<string>;
  close(): Promise<void>;
}

export interface DevIdpOptions {
  readonly clients: readonly DemoClient[];
  readonly audience: string;
  readonly port: number;
  readonly tokenTtlS: number;
}

type Payload = Record<string, unknown> & { grantId?: string; userCode?: string; uid?: string };
const MAX_ENTRIES = 10_000;

/**
 * oidc-provider's storage for this one provider: in memory (the demo keeps nothing across runs),
 * bounded, expired entries ignored. Giving it explicitly also says so instead of a start-up warning.
 */
function memoryAdapterClass() {
  const store = new Map<string, { payload: Payload; expiresAt: number }>();
  const live = (key: string) => {
    const e = store.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return e.payload;
  };
  const findBy = (model: string, field: 'userCode' | 'uid', value: string) => {
    for (const [key, e] of store)
      if (key.startsWith(`${model}:`) && e.payload[field] === value) return live(key);
    return undefined;
  };
  return class DemoAdapter {
    readonly #model: string;
    constructor(model: string) {
      this.#model = model;
    }
    async upsert(id: string, payload: Payload, expiresIn?: number) {
      if (store.size >= MAX_ENTRIES) store.delete(store.keys().next().value!);
      const expiresAt =
        expiresIn === undefined ? Number.POSITIVE_INFINITY : Date.now() + expiresIn * 1000;
      store.set(`${this.#model}:${id}`, { payload, expiresAt });
    }
    async find(id: string) {
      return live(`${this.#model}:${id}`);
    }
    async findByUserCode(userCode: string) {
      return findBy(this.#model, 'userCode', userCode);
    }
    async findByUid(uid: string) {
      return findBy(this.#model, 'uid', uid);
    }
    async consume(id: string) {
      const payload = live(`${this.#model}:${id}`);
      if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(`${this.#model}:${id}`);
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, e] of store) if (e.payload.grantId === grantId) store.delete(key);
    }
  };
}

export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  // Fresh secrets and signing key per start: nothing here outlives the demo process.
  const secrets = new Map(
    options.clients.map((c) => [c.id, randomBytes(24).toString('base64url')]),
  );
  const groups = new Map(options.clients.map((c) => [c.id, c.groups]));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'demo-1', alg: 'RS256', use: 'sig' };

  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const server = createServer((req, res) => {
    if (handler === null) res.writeHead(503).end();
    else handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      client_id: c.id,
      client_secret: secrets.get(c.id),
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    })),
    adapter: memoryAdapterClass(),
    jwks: { keys: [jwk] },
    scopes: ['db'],
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: { ClientCredentials: options.tokenTtlS, AccessToken: options.tokenTtlS },
    extraTokenClaims: (_ctx: unknown, token: { clientId?: string }) => ({
      groups: [...(groups.get(token.clientId ?? '') ?? [])],
    }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => options.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'db',
          audience: options.audience,
          accessTokenTTL: options.tokenTtlS,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256', kid: jwk.kid } },
        }),
      },
    },
  });
  handler = provider.callback();

  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    issuer,
    audience: options.audience,
    async token(clientId) {
      const secret = secrets.get(clientId);
      if (secret === undefined) throw new Error(`no demo client ${clientId}`);
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          resource: options.audience,
          scope: 'db',
        }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json()) as { access_token?: unknown };
      if (!res.ok || typeof body.access_token !== 'string')
        throw new Error(`the demo IdP refused a token for ${clientId} (HTTP ${res.status})`);
      return body.access_token;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
