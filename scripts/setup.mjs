#!/usr/bin/env node
// Idempotent test-machine setup run by `npm test`: checks PostgreSQL server and client tools,
// pgbouncer, openssl, python3-psycopg, chromium and the pinned OPA CLI; installs what is missing (apt as root).
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const OPA_MODULE = 'github.com/open-policy-agent/opa';
const OPA_VERSION = '1.22.2';
const OPA_BIN = join(REPO, '.tools', 'bin', 'opa');
const DEFAULT_PG_MAJOR = '15'; // Debian 12's PostgreSQL
const SYSTEM_PYTHON = '/usr/bin/python3';

/** Resolves with { ok, stdout, stderr } and never rejects: a missing tool is an answer, not a fault. */
function run(file, args, options = {}) {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 30 * 60_000, ...options },
      (error, stdout, stderr) =>
        resolve({ ok: !error, stdout, stderr: stderr || error?.message || '' }),
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end();
  });
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First executable named `name` on PATH or in `extraDirs`, else undefined. */
function which(name, extraDirs = []) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs].filter(Boolean);
  return dirs.map((dir) => join(dir, name)).find(isExecutable);
}

/** The newest /usr/lib/postgresql/N/bin that has a server, or undefined. */
function pgBinDir() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const major = readdirSync(root)
    .filter((name) => /^\d+$/.test(name) && isExecutable(join(root, name, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a))[0];
  return major === undefined ? undefined : { major, dir: join(root, major, 'bin') };
}

async function pgBinDirFromPgConfig() {
  const pgConfig = which('pg_config');
  if (!pgConfig) return undefined;
  const { ok, stdout } = await run(pgConfig, ['--bindir']);
  const dir = stdout.trim();
  const major = /\/postgresql\/(\d+)\/bin$/.exec(dir)?.[1];
  return ok && isExecutable(join(dir, 'postgres'))
    ? { major: major ?? DEFAULT_PG_MAJOR, dir }
    : undefined;
}

/**
 * Every check as { what, ok, pkg } where pkg is the Debian package that provides it. Debian ships
 * contrib modules and pgbench inside postgresql-N, so the postgresql-contrib metapackage (which
 * could pull another major) is not needed.
 */
async function checkSystem() {
  const bin = (await pgBinDirFromPgConfig()) ?? pgBinDir();
  const major = bin?.major ?? DEFAULT_PG_MAJOR;
  const inBin = (tool) => (bin ? isExecutable(join(bin.dir, tool)) : false);
  const psycopg = existsSync(SYSTEM_PYTHON)
    ? (await run(SYSTEM_PYTHON, ['-c', 'import psycopg'])).ok
    : false;
  return {
    major,
    checks: [
      ...['initdb', 'postgres', 'pg_ctl', 'pgbench'].map((tool) => ({
        what: tool,
        ok: inBin(tool),
        pkg: `postgresql-${major}`,
      })),
      {
        what: 'psql',
        ok: inBin('psql') && Boolean(which('psql')),
        pkg: `postgresql-client-${major}`,
      },
      { what: 'pgbouncer', ok: Boolean(which('pgbouncer', ['/usr/sbin'])), pkg: 'pgbouncer' },
      { what: 'openssl', ok: Boolean(which('openssl')), pkg: 'openssl' },
      { what: `${SYSTEM_PYTHON} with psycopg`, ok: psycopg, pkg: 'python3-psycopg' },
      // The auditor web view is tested in headless Chromium (playwright-core drives Debian's build).
      { what: 'chromium', ok: Boolean(which('chromium')), pkg: 'chromium' },
    ],
  };
}

async function installedVersion(pkg) {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${Field} syntax, not JS.
  const { ok, stdout } = await run('dpkg-query', ['-W', '-f=${Status} ${Version}', pkg]);
  const match = /install ok installed (\S+)/.exec(stdout);
  return ok && match ? match[1] : undefined;
}

/** apt-get install of `pkgs`, pinning libpq5 and PostgreSQL packages to what is already installed. */
async function aptInstall(pkgs, major) {
  const pinnable = ['libpq5', `postgresql-${major}`, `postgresql-client-${major}`];
  const args = [];
  for (const pkg of new Set([...pkgs, ...pinnable])) {
    const version = pinnable.includes(pkg) ? await installedVersion(pkg) : undefined;
    // SECURITY/stability: never let apt swap the server binaries a running cluster was started from.
    if (version) args.push(`${pkg}=${version}`);
    else if (pkgs.includes(pkg)) args.push(pkg);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = await run('apt-get', ['update'], { env });
  if (!update.ok) fail(`apt-get update failed:\n${tail(update.stderr)}`);
  const install = await run('apt-get', ['install', '-y', '--no-install-recommends', ...args], {
    env,
  });
  if (!install.ok) fail(`apt-get install ${args.join(' ')} failed:\n${tail(install.stderr)}`);
}

async function opaOk() {
  if (!isExecutable(OPA_BIN)) return false;
  const { ok, stdout } = await run(OPA_BIN, ['version']);
  return ok && stdout.split('\n').includes(`Version: ${OPA_VERSION}`);
}

async function installOpa() {
  const go = which('go', ['/usr/local/go/bin']);
  if (!go)
    fail(
      `go not found (PATH or /usr/local/go/bin): needed for go install ${OPA_MODULE}@v${OPA_VERSION}`,
    );
  const env = { ...process.env, GOBIN: join(REPO, '.tools', 'bin') };
  const result = await run(go, ['install', `${OPA_MODULE}@v${OPA_VERSION}`], { env, cwd: REPO });
  if (!result.ok) fail(`go install ${OPA_MODULE}@v${OPA_VERSION} failed:\n${tail(result.stderr)}`);
  if (!(await opaOk())) fail(`${OPA_BIN} does not report Version: ${OPA_VERSION} after go install`);
  console.log(`setup: installed opa v${OPA_VERSION} -> .tools/bin/opa`);
}

function tail(text) {
  return text.trim().split('\n').slice(-20).join('\n');
}

function fail(message) {
  console.error(`setup: ${message}`);
  process.exit(1);
}

async function main() {
  const [{ major, checks }, opa] = await Promise.all([checkSystem(), opaOk()]);
  const missing = checks.filter((check) => !check.ok);
  const pkgs = [...new Set(missing.map((check) => check.pkg))];
  const isRoot = process.getuid?.() === 0;

  // OPA needs no root, so it is installed even when apt packages must wait for an administrator.
  if (!opa) await installOpa();
  if (pkgs.length > 0 && !isRoot) {
    console.error(`setup: missing ${missing.map((check) => check.what).join(', ')}`);
    fail(`install them with: sudo apt-get install -y --no-install-recommends ${pkgs.join(' ')}`);
  }
  if (pkgs.length > 0) {
    if (!which('apt-get')) fail(`missing ${pkgs.join(' ')} and apt-get is not available`);
    await aptInstall(pkgs, major);
    const after = (await checkSystem()).checks.filter((check) => !check.ok);
    if (after.length > 0)
      fail(`still missing after apt-get: ${after.map((c) => c.what).join(', ')}`);
    for (const pkg of pkgs) console.log(`setup: installed ${pkg} (apt)`);
  }
  console.log('setup: ok');
}

await main();
