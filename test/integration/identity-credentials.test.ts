// Just-in-time credentials end to end: `pgward login` (device flow against a real IdP), then
// `pgward credentials` through POST /v1/credentials, and psql using the printed connection string
// unchanged against the TLS gateway. Credentials are bounded by the caller's real grants.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApi } from '../../api/create-api.js';
import { credentialsRoutes } from '../../api/routes/credentials.js';
import { type ServedApi, serveApi } from '../../api/serve-api.js';
import { credentialsCommand, loginCommand } from '../../cli/credentials-command.js';
import { silentLogger } from '../../lib/log.js';
import type { Grant } from '../../policy/contracts.js';
import { policyValidators } from '../../policy/schemas.js';
import type { GrantsExpiry } from '../../proxy/auth/credentials.js';
import { childBaseEnv } from '../harness/cli-gateway.js';
import { makeCertificates } from '../harness/exec.js';
import { gatewayConfigDoc } from '../harness/gateway.js';
import { type IdentityGateway, startIdentityGateway } from '../harness/identity-gateway.js';
import { IDP_AUDIENCE, IDP_CLIENTS, startIdp, type TestIdp } from '../harness/idp.js';

const info = inject('pg');
const utcSecond = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
const NOW = Math.floor(Date.now() / 1000) * 1000;

/** Grants as a bundle's data.grants carries them, validated by the grant schema. */
const GRANTS: Grant[] = [
  grant('alice-support', { sub: 'alice@example.com' }, NOW + 90 * 60_000),
  grant('analytics-readers', { group: 'analytics' }, NOW + 10 * 60_000),
];

function grant(id: string, subject: Grant['subject'], expiresAt: number): Grant {
  return {
    id: `2026-identity-${id}`,
    subject,
    database: 'app',
    objects: [{ schema: 'public', table: '*', actions: ['select'] }],
    not_before: utcSecond(NOW - 3_600_000),
    expires_at: utcSecond(expiresAt),
    reason: 'identity integration test',
    requester: 'test@example.com',
  };
}

/** What the policy owner provides: the latest end among the caller's active grants, 0 without one. */
const grantsExpiry: GrantsExpiry = (sub, groups, database) => {
  const ends = GRANTS.filter((g) =>
    'sub' in g.subject ? g.subject.sub === sub : groups.includes(g.subject.group),
  )
    .filter((g) => database === undefined || g.database === database)
    .filter((g) => Date.parse(g.not_before) <= Date.now() && Date.now() < Date.parse(g.expires_at))
    .map((g) => Date.parse(g.expires_at));
  return ends.length === 0 ? 0 : Math.max(...ends);
};

let dir: string;
let idp: TestIdp;
let gw: IdentityGateway;
let api: ServedApi;

beforeAll(async () => {
  for (const g of GRANTS) expect(policyValidators().grant(g), g.id).toBe(true);
  dir = await mkdtemp(join(tmpdir(), 'pgward-identity-'));
  await makeCertificates(dir);
  idp = await startIdp({
    groups: { 'svc-agent': ['analytics'], 'alice@example.com': ['support'] },
  });
  const signing = generateKeyPairSync('ed25519').privateKey.export({
    format: 'pem',
    type: 'pkcs8',
  });
  gw = await startIdentityGateway(info, {
    identity: {
      oidc: {
        issuer: idp.issuer,
        audience: IDP_AUDIENCE,
        introspection: { client_id: IDP_CLIENTS.gateway.id, client_secret: { env: 'TEST_INTRO' } },
      },
      credentials: { signing_key: { env: 'TEST_SIGNING' }, max_ttl_s: 3600 },
    },
    config: {
      tls: { cert: { file: join(dir, 'server.crt') }, key: { file: join(dir, 'server.key') } },
      // A second registered database on the same server: a credential minted for app must not open it.
      upstreams: (() => {
        const [app] = gatewayConfigDoc(info).upstreams as Record<string, unknown>[];
        return [app, { ...app, name: 'reports' }];
      })(),
    },
    env: { TEST_INTRO: IDP_CLIENTS.gateway.secret, TEST_SIGNING: String(signing) },
    grantsExpiry,
  });
  const { bearer, minter } = gw.services;
  if (bearer === null || minter === null) throw new Error('identity services missing');
  const app = createApi({
    log: silentLogger,
    routes: [
      credentialsRoutes({
        verifyBearer: bearer,
        mint: (identity, database) => minter.mint(identity, database),
        publicHost: 'localhost',
        publicPort: gw.port,
        databases: ['app'],
        log: silentLogger,
      }),
    ],
  });
  api = await serveApi(app, '127.0.0.1', 0);
});

afterAll(async () => {
  await api?.close();
  await gw?.[Symbol.asyncDispose]();
  await idp?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function psql(connectionString: string, sql: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      '/usr/bin/psql',
      ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql, connectionString],
      { env: childBaseEnv(), timeout: 30_000, encoding: 'utf8' },
      (error, stdout, stderr) =>
        error ? reject(new Error(stderr || error.message)) : resolve(stdout.trim()),
    );
  });
}

const post = (token: string, body: unknown) =>
  fetch(`${api.url}/v1/credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('POST /v1/credentials', () => {
  it('exchanges a JWT for a credential bounded by the caller’s grant, usable as is with psql', async () => {
    const res = await post(await idp.token(), { database: 'app' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    // max_ttl_s is an hour; the analytics grant ends in ten minutes, so the credential does too.
    expect(body.expires_at).toBe(GRANTS[1]!.expires_at.replace('Z', '.000Z'));
    expect(body.connection_string).toBe(
      `postgresql://svc-agent:${body.credential}@localhost:${gw.port}/app?sslmode=require`,
    );
    expect(decodeJwt(body.credential!)).toMatchObject({
      iss: 'pgward',
      sub: 'svc-agent',
      groups: ['analytics'],
      oiss: idp.issuer,
      db: 'app',
    });
    expect(await psql(body.connection_string!, 'select current_user')).toBe(info.scramUser);
    expect(
      await gw.services.authenticator.authenticate({
        userHint: 'svc-agent',
        password: body.credential!,
        clientAddr: '127.0.0.1',
      }),
    ).toMatchObject({ ok: true, identity: { via: 'credential', issuer: idp.issuer } });
  });

  it('a credential minted for one database does not open another registered one', async () => {
    const res = await post(await idp.token(), { database: 'app' });
    const body = (await res.json()) as Record<string, string>;
    const elsewhere = body.connection_string!.replace('/app?', '/reports?');
    await expect(psql(elsewhere, 'select 1')).rejects.toThrow(
      /FATAL: {2}the pgward credential was not issued for this database/,
    );
    expect(gw.authFailures()).toContain('credential: issued for database "app", not "reports"');
    // The same credential still opens the database it was minted for.
    expect(await psql(body.connection_string!, 'select 1')).toBe('1');
  });

  it('refuses a caller without an active grant with 403', async () => {
    const res = await post(await idp.token('opaque'), { database: 'app' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      detail: 'the caller has no grant that is still active',
    });
  });

  it('refuses an invalid token with 401 and the same verification as the wire', async () => {
    const [h, p, s] = (await idp.token()).split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'root' }),
    ).toString('base64url');
    const res = await post(`${h}.${forged}.${s}`, { database: 'app' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });
});

describe('pgward login and pgward credentials', () => {
  it('device flow, then a connection string psql uses unchanged', async () => {
    let stderr = '';
    const approvals: Promise<void>[] = [];
    let token = '';
    const code = await loginCommand(
      [
        '--issuer',
        idp.issuer,
        '--client-id',
        IDP_CLIENTS.cli.id,
        '--scope',
        'openid db',
        '--resource',
        IDP_AUDIENCE,
      ],
      {},
      {
        out: (t) => {
          token += t;
        },
        err: (t) => {
          stderr += t;
          // The user opens the page and types the code: the harness approves it as alice.
          const userCode = /enter the code (\S+)/.exec(t)?.[1];
          if (userCode !== undefined)
            approvals.push(idp.approveDevice(userCode, 'alice@example.com'));
        },
      },
    );
    await Promise.all(approvals);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(
      new RegExp(`^To sign in, open ${idp.issuer}/device and enter the code [A-Z]{4}-[A-Z]{4}\\n`),
    );
    expect(decodeJwt(token.trim())).toMatchObject({
      sub: 'alice@example.com',
      aud: IDP_AUDIENCE,
      groups: ['support'],
    });

    let out = '';
    const sink = {
      out: (t: string) => {
        out += t;
      },
      err: (t: string) => {
        out += t;
      },
    };
    expect(
      await credentialsCommand(
        ['--api', api.url, '--token', token.trim(), '--database', 'app'],
        {},
        sink,
      ),
    ).toBe(0);
    const connectionString = out.trim();
    expect(connectionString).toMatch(
      /^postgresql:\/\/alice%40example\.com:[\w.-]+@localhost:\d+\/app\?sslmode=require$/,
    );
    expect(await psql(connectionString, 'select 41 + 1')).toBe('42');
  });
});
