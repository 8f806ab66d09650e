// The demo's gateway config, written as an ordinary pgward.yaml into the state directory (so it can be
// read and reused with `pgward serve`), its secrets generated beside it, then loaded and validated
// like any other config.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { PgwardError } from '../../lib/errors.js';
import { loadConfigFile } from '../config.js';
import { PACKAGE_ROOT } from '../policy-commands.js';
import type { DemoDatabase } from './databases.js';
import { GRANT_HOURS } from './policy-repo.js';

export const CONFIG_FILE = 'pgward.yaml';
export const BUNDLE_BRANCH = 'pgward-bundle';

export interface DemoConfigInput {
  readonly stateDir: string;
  readonly gatewayPort: number;
  readonly apiPort: number;
  readonly issuer: string;
  readonly audience: string;
  readonly databases: readonly DemoDatabase[];
  /** The bare policy repository, relative to the state directory. */
  readonly policyRemote: string;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** Writes the secrets and pgward.yaml, and loads them back through the config validator. */
export async function writeDemoConfig(input: DemoConfigInput) {
  const secrets = path.join(input.stateDir, 'secrets');
  await mkdir(secrets, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  await writeFile(
    path.join(secrets, 'credentials-signing-key.pem'),
    privateKey.export({ type: 'pkcs8', format: 'pem' }),
    { mode: 0o600 },
  );
  await writeFile(path.join(secrets, 'masking-hash-key'), randomBytes(32).toString('base64url'), {
    mode: 0o600,
  });
  const doc = {
    $schema: path.relative(
      input.stateDir,
      path.join(PACKAGE_ROOT, 'schemas', 'config.schema.json'),
    ),
    listen: { host: '127.0.0.1', port: input.gatewayPort },
    api: { host: '127.0.0.1', port: input.apiPort, auditor_group: 'auditors' },
    // Loopback only: the demo offers no TLS, so cleartext passwords are accepted from this machine.
    auth: { allow_cleartext_on_loopback: true },
    identity: {
      oidc: { issuer: input.issuer, audience: input.audience },
      credentials: {
        signing_key: { file: 'secrets/credentials-signing-key.pem' },
        max_ttl_s: GRANT_HOURS * 3600,
      },
    },
    upstreams: input.databases.map((d) => ({
      name: d.name,
      host: '127.0.0.1',
      port: d.port,
      database: 'postgres',
      user: 'postgres',
    })),
    policy: {
      git: {
        url: input.policyRemote,
        branch: BUNDLE_BRANCH,
        workdir: 'gateway-policy',
        // The demo publishes and triggers a pull itself; polling is the fallback.
        poll_ms: 60_000,
      },
    },
    masking: { hash_key: { file: 'secrets/masking-hash-key' } },
    audit: { chdb_path: 'audit', spool_dir: 'audit-spool' },
    approvals: { repo: input.policyRemote, window_minutes: 60 },
    workers: 1,
    log: { level: input.logLevel },
  };
  const file = path.join(input.stateDir, CONFIG_FILE);
  await writeFile(
    file,
    `# Written by \`pgward demo\` for this run; secrets are files under secrets/.\n${stringify(doc)}`,
  );
  // The demo's config is exactly this file: PGWARD_* environment overrides do not apply.
  const loaded = loadConfigFile(file, {});
  if (!loaded.ok) {
    const problems = loaded.problems.map((p) => `${p.pointer}: ${p.message}`).join('; ');
    throw new PgwardError('PGW_CONFIG_INVALID', `the demo config is invalid: ${problems}`);
  }
  return { file, ...loaded };
}
