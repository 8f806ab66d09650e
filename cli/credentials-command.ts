// `pgward login` (OAuth 2.0 device authorization grant: prints the code to enter, polls, prints the
// access token) and `pgward credentials` (exchanges that token for a pgward connection string).

import { parseArgs } from 'node:util';
import * as client from 'openid-client';
import { issuerUrl } from '../proxy/auth/oidc.js';

export interface CommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const stdio: CommandIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const REQUEST_TIMEOUT_MS = 30_000;

export const CREDENTIALS_USAGE = `usage: pgward credentials --api <url> --database <name> [--token <access token>] [--json]
  The token defaults to $PGWARD_TOKEN. Prints the connection string (--json: the whole answer).
`;

export const LOGIN_USAGE = `usage: pgward login --issuer <url> --client-id <id> [--scope <scopes>] [--resource <uri>]
  Runs the device authorization grant and prints the access token.
`;

/** `pgward credentials`: POST /v1/credentials with the bearer token; prints the connection string. */
export async function credentialsCommand(
  args: string[],
  env: NodeJS.ProcessEnv,
  io: CommandIo = stdio,
): Promise<number> {
  let values: { api?: string; token?: string; database?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        api: { type: 'string' },
        token: { type: 'string' },
        database: { type: 'string', short: 'd' },
        json: { type: 'boolean' },
      },
    }));
  } catch (err) {
    io.err(`pgward credentials: ${(err as Error).message}\n${CREDENTIALS_USAGE}`);
    return 2;
  }
  const token = values.token ?? env.PGWARD_TOKEN;
  if (values.api === undefined || values.database === undefined || token === undefined) {
    io.err(`pgward credentials: --api, --database and a token are required\n${CREDENTIALS_USAGE}`);
    return 2;
  }
  let res: Response;
  try {
    res = await fetch(new URL('/v1/credentials', values.api), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ database: values.database }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    io.err(`pgward credentials: cannot reach ${values.api}: ${(err as Error).message}\n`);
    return 1;
  }
  const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (!res.ok || typeof body?.connection_string !== 'string') {
    const detail = typeof body?.detail === 'string' ? body.detail : res.statusText;
    io.err(`pgward credentials: ${res.status} ${detail}\n`);
    return 1;
  }
  io.out(values.json ? `${JSON.stringify(body, null, 2)}\n` : `${body.connection_string}\n`);
  return 0;
}

/** `pgward login`: the device authorization grant (RFC 8628) with openid-client. */
export async function loginCommand(
  args: string[],
  _env: NodeJS.ProcessEnv,
  io: CommandIo = stdio,
): Promise<number> {
  let values: { issuer?: string; 'client-id'?: string; scope?: string; resource?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        issuer: { type: 'string' },
        'client-id': { type: 'string' },
        scope: { type: 'string' },
        resource: { type: 'string' },
      },
    }));
  } catch (err) {
    io.err(`pgward login: ${(err as Error).message}\n${LOGIN_USAGE}`);
    return 2;
  }
  const clientId = values['client-id'];
  if (values.issuer === undefined || clientId === undefined) {
    io.err(`pgward login: --issuer and --client-id are required\n${LOGIN_USAGE}`);
    return 2;
  }
  try {
    const { url, insecure } = issuerUrl(values.issuer);
    const config = await client.discovery(url, clientId, undefined, client.None(), {
      timeout: REQUEST_TIMEOUT_MS / 1000,
      ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
    });
    const resource = values.resource === undefined ? {} : { resource: values.resource };
    const device = await client.initiateDeviceAuthorization(config, {
      scope: values.scope ?? 'openid',
      ...resource,
    });
    io.err(
      `To sign in, open ${device.verification_uri} and enter the code ${device.user_code}\n` +
        (device.verification_uri_complete !== undefined
          ? `(or open ${device.verification_uri_complete})\n`
          : ''),
    );
    const tokens = await client.pollDeviceAuthorizationGrant(config, device, resource);
    io.out(`${tokens.access_token}\n`);
    return 0;
  } catch (err) {
    const reason =
      err instanceof client.ResponseBodyError
        ? `${err.error}${err.error_description ? `: ${err.error_description}` : ''}`
        : (err as Error).message;
    io.err(`pgward login: ${reason}\n`);
    return 1;
  }
}
