// The git bundle source against a real bare remote and real bundles (built by the pinned OPA):
// swap on a new commit, reject corrupt / canary-failing / unsigned / older bundles while the last
// good one keeps serving, poll, coalesce webhook pulls.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../lib/log.js';
import { createGitWorkspace, type GitClone, type GitWorkspace } from '../../test/harness/git.js';
import { sha256Hex, signManifest } from '../bundle/manifest.js';
import type { BundleManifest } from '../contracts.js';
import type { Evaluator } from '../decider/evaluator.js';
import {
  type BuiltBundle,
  buildTemplateBundle,
  TEST_REVISION,
  tempDir,
} from '../testing/template-bundle.js';
import {
  type BundleTarget,
  createGitBundleSource,
  gitBundleSourceOptions,
  redactUrls,
} from './git-bundle-source.js';
import { publishBundle } from './publish.js';

const BRANCH = 'pgward-bundle';
let good: BuiltBundle;
beforeAll(async () => {
  good = await buildTemplateBundle();
});
afterAll(async () => {
  await good?.[Symbol.asyncDispose]();
});

interface Recorded extends BundleTarget {
  readonly current: Evaluator | null;
}
function target(): Recorded {
  let current: Evaluator | null = null;
  return {
    swap: (next) => {
      current = next;
    },
    get revision() {
      return current?.revision ?? null;
    },
    get current() {
      return current;
    },
  };
}

type Line = Record<string, unknown> & { msg: string };
function recordingLog(): { log: Logger; lines: Line[]; next: (msg: string) => Promise<Line> } {
  const lines: Line[] = [];
  const waiters: { msg: string; resolve: (l: Line) => void }[] = [];
  const log = createLogger({
    level: 'debug',
    write: (raw) => {
      const line = JSON.parse(raw) as Line;
      lines.push(line);
      for (const w of waiters.splice(0)) {
        if (line.msg === w.msg) w.resolve(line);
        else waiters.push(w);
      }
    },
  });
  return { log, lines, next: (msg) => new Promise((resolve) => waiters.push({ msg, resolve })) };
}

/** A copy of the good bundle with edited files and manifest (hashes recomputed, optionally signed). */
async function variant(edit: {
  canary?: (doc: { cases: { expect: { outcome: string } }[] }) => void;
  builtAt?: string;
  sign?: { keyId: string; privateKey: KeyObject };
}) {
  const dir = await tempDir('pgward-variant-');
  await cp(good.path, dir.path, { recursive: true });
  const manifest = JSON.parse(
    await readFile(path.join(dir.path, 'manifest.json'), 'utf8'),
  ) as BundleManifest;
  let files = manifest.files;
  if (edit.canary !== undefined) {
    const doc = JSON.parse(await readFile(path.join(dir.path, 'canary.json'), 'utf8'));
    edit.canary(doc);
    const bytes = Buffer.from(JSON.stringify(doc));
    await writeFile(path.join(dir.path, 'canary.json'), bytes);
    files = files.map((f) =>
      f.path === 'canary.json' ? { ...f, sha256: sha256Hex(bytes), size: bytes.length } : f,
    );
  }
  const { signature: _old, ...unsigned } = {
    ...manifest,
    files,
    built_at: edit.builtAt ?? manifest.built_at,
  };
  const out = edit.sign === undefined ? unsigned : signManifest(unsigned, edit.sign);
  await writeFile(path.join(dir.path, 'manifest.json'), JSON.stringify(out));
  return dir;
}

/** Commits files straight onto the bundle branch (what a broken CI or an attacker could push). */
async function pushRaw(clone: GitClone, edit: (dir: string) => Promise<void>): Promise<string> {
  await clone.git.raw(['fetch', '-q', 'origin']);
  await clone.git.raw(['checkout', '-q', '-B', BRANCH, `origin/${BRANCH}`]);
  await edit(clone.dir);
  const commit = await clone.commitAll('corrupt bundle');
  await clone.git.raw(['push', '-q', 'origin', `${BRANCH}:refs/heads/${BRANCH}`]);
  return commit;
}

async function workspace(): Promise<{ ws: GitWorkspace; ci: GitClone } & AsyncDisposable> {
  const ws = await createGitWorkspace();
  const ci = await ws.clone('ci');
  return { ws, ci, [Symbol.asyncDispose]: () => ws[Symbol.asyncDispose]() };
}

const sourceFor = (
  ws: GitWorkspace,
  log: Logger,
  extra: { trustedKeys?: ReadonlyMap<string, KeyObject>; pollMs?: number } = {},
) =>
  createGitBundleSource({
    url: ws.remote,
    branch: BRANCH,
    pollMs: extra.pollMs ?? 3_600_000,
    timeoutMs: 30_000,
    workdir: path.join(ws.root, 'gateway'),
    maxMemoryPages: 1024,
    log,
    ...(extra.trustedKeys !== undefined ? { trustedKeys: extra.trustedKeys } : {}),
  });

describe('git bundle source', () => {
  it('serves nothing until the bundle branch exists, then swaps the published bundle in once', async () => {
    await using w = await workspace();
    const rec = recordingLog();
    const t = target();
    await using source = sourceFor(w.ws, rec.log);
    expect(await source.start(t)).toMatchObject({ outcome: 'unavailable', revision: null });
    expect(t.current).toBeNull();
    expect(rec.lines.at(-1)).toMatchObject({ level: 'warn', msg: 'policy bundle fetch failed' });

    const published = await publishBundle({
      repoDir: w.ci.dir,
      bundleDir: good.path,
      branch: BRANCH,
    });
    expect(await source.pullNow()).toEqual({
      outcome: 'swapped',
      commit: published.commit,
      revision: TEST_REVISION,
    });
    expect(t.revision).toBe(TEST_REVISION);
    expect(await source.pullNow()).toMatchObject({
      outcome: 'unchanged',
      commit: published.commit,
    });
    expect(rec.lines.filter((l) => l.msg === 'policy bundle swapped')).toHaveLength(1);
  });

  it('rejects corrupt, canary-failing and older bundles with one log line each; the last good one keeps serving', async () => {
    await using w = await workspace();
    const rec = recordingLog();
    const t = target();
    await publishBundle({ repoDir: w.ci.dir, bundleDir: good.path, branch: BRANCH });
    await using source = sourceFor(w.ws, rec.log);
    expect(await source.start(t)).toMatchObject({ outcome: 'swapped' });
    const serving = t.current;

    const corrupt = await pushRaw(w.ci, async (dir) => {
      const wasm = await readFile(path.join(dir, 'policy.wasm'));
      wasm.writeUInt8(wasm.readUInt8(wasm.length - 1) ^ 0xff, wasm.length - 1);
      await writeFile(path.join(dir, 'policy.wasm'), wasm);
    });
    expect(await source.pullNow()).toMatchObject({
      outcome: 'rejected',
      commit: corrupt,
      code: 'PGW_BUNDLE_HASH_MISMATCH',
      revision: TEST_REVISION,
    });
    expect(t.current).toBe(serving);
    expect(rec.lines.at(-1)).toMatchObject({
      level: 'error',
      msg: 'policy bundle rejected; the last good bundle keeps serving',
      commit: corrupt,
      code: 'PGW_BUNDLE_HASH_MISMATCH',
      serving: TEST_REVISION,
    });
    const logged = rec.lines.length;
    expect(await source.pullNow()).toMatchObject({ outcome: 'unchanged', commit: corrupt });
    expect(rec.lines).toHaveLength(logged);

    await using failing = await variant({
      builtAt: '2099-01-01T00:00:00.000Z',
      canary: (doc) => {
        doc.cases[0]!.expect.outcome = 'allowed';
      },
    });
    await publishBundle({ repoDir: w.ci.dir, bundleDir: failing.path, branch: BRANCH });
    expect(await source.pullNow()).toMatchObject({
      outcome: 'rejected',
      code: 'PGW_BUNDLE_CANARY_FAILED',
    });

    await using older = await variant({ builtAt: '2000-01-01T00:00:00.000Z' });
    await publishBundle({ repoDir: w.ci.dir, bundleDir: older.path, branch: BRANCH });
    expect(await source.pullNow()).toMatchObject({
      outcome: 'rejected',
      code: 'PGW_BUNDLE_ROLLBACK',
    });
    expect(t.current).toBe(serving);

    await using newer = await variant({ builtAt: '2099-01-01T00:00:00.000Z' });
    const fixed = await publishBundle({ repoDir: w.ci.dir, bundleDir: newer.path, branch: BRANCH });
    expect(await source.pullNow()).toMatchObject({ outcome: 'swapped', commit: fixed.commit });
    expect(t.current).not.toBe(serving);
  });

  it('with a public key, loads only bundles that key signed', async () => {
    await using w = await workspace();
    const rec = recordingLog();
    const t = target();
    const key = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519');
    await publishBundle({ repoDir: w.ci.dir, bundleDir: good.path, branch: BRANCH });
    await using source = sourceFor(w.ws, rec.log, {
      trustedKeys: new Map([['release', key.publicKey]]),
    });
    expect(await source.start(t)).toMatchObject({
      outcome: 'rejected',
      code: 'PGW_BUNDLE_SIGNATURE_INVALID',
      revision: null,
    });
    expect(rec.lines.at(-1)).toMatchObject({
      msg: 'policy bundle rejected; no bundle is serving, every statement is denied',
    });

    await using forged = await variant({
      builtAt: '2099-01-01T00:00:00.000Z',
      sign: { keyId: 'release', privateKey: other.privateKey },
    });
    await publishBundle({ repoDir: w.ci.dir, bundleDir: forged.path, branch: BRANCH });
    expect(await source.pullNow()).toMatchObject({
      outcome: 'rejected',
      code: 'PGW_BUNDLE_SIGNATURE_INVALID',
    });
    expect(t.current).toBeNull();

    await using signed = await variant({
      builtAt: '2099-01-01T00:00:00.000Z',
      sign: { keyId: 'release', privateKey: key.privateKey },
    });
    await publishBundle({ repoDir: w.ci.dir, bundleDir: signed.path, branch: BRANCH });
    expect(await source.pullNow()).toMatchObject({ outcome: 'swapped' });
    expect(t.revision).toBe(TEST_REVISION);
  });

  it('polls on its interval, and coalesces triggers that arrive during a pull', async () => {
    await using w = await workspace();
    const rec = recordingLog();
    const t = target();
    await publishBundle({ repoDir: w.ci.dir, bundleDir: good.path, branch: BRANCH });
    await using source = sourceFor(w.ws, rec.log, { pollMs: 50 });
    await source.start(t);
    const before = source.pulls;
    const a = source.pullNow();
    const b = source.pullNow();
    const c = source.pullNow();
    expect(b).toBe(c);
    await Promise.all([a, b, c]);

    await using newer = await variant({ builtAt: '2099-01-01T00:00:00.000Z' });
    const swapped = rec.next('policy bundle swapped');
    const published = await publishBundle({
      repoDir: w.ci.dir,
      bundleDir: newer.path,
      branch: BRANCH,
    });
    expect(await swapped).toMatchObject({ commit: published.commit });
    expect(source.pulls).toBeGreaterThan(before + 1);
    await source.stop();
    expect(await source.pullNow()).toMatchObject({ outcome: 'unavailable', message: /stopped/ });
  });
});

describe('gitBundleSourceOptions', () => {
  const settings = {
    url: '../policy.git',
    branch: 'pgward-bundle',
    poll_ms: 30_000,
    timeout_ms: 60_000,
    workdir: 'state/policy',
    public_key_id: 'release',
  };
  const deps = (secret: Buffer) => ({
    secret: () => secret,
    configDir: '/etc/pgward',
    workerIndex: 2,
    maxMemoryPages: 1024,
    log: createLogger({ write: () => {} }),
  });

  it('resolves local paths against the config, gives each worker its own workdir, reads the key', () => {
    const key = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' });
    const options = gitBundleSourceOptions(
      { ...settings, public_key: { env: 'K' } },
      deps(Buffer.from(key)),
    );
    expect(options).toMatchObject({
      url: '/etc/policy.git',
      workdir: '/etc/pgward/state/policy/worker-2',
      pollMs: 30_000,
    });
    expect([...(options.trustedKeys?.keys() ?? [])]).toEqual(['release']);
    expect(
      gitBundleSourceOptions(
        { ...settings, url: 'https://git.example/p.git' },
        deps(Buffer.from('')),
      ).url,
    ).toBe('https://git.example/p.git');
  });

  it('refuses a public key that is not Ed25519', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    expect(() =>
      gitBundleSourceOptions({ ...settings, public_key: { env: 'K' } }, deps(Buffer.from(rsa))),
    ).toThrow(/Ed25519/);
  });
});

describe('redactUrls', () => {
  it('hides credentials embedded in URLs of git messages', () => {
    expect(
      redactUrls(
        "fatal: unable to access 'https://x-access-token:ghs_abc@github.com/o/p.git/': 403",
      ),
    ).toBe("fatal: unable to access 'https://***@github.com/o/p.git/': 403");
    expect(redactUrls('fetch /srv/policy.git failed')).toBe('fetch /srv/policy.git failed');
  });
});
