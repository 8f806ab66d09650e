// The demo's upstream databases: one in-process PGlite per registered database, seeded with the
// fake shop data and served on a loopback port by the demo's wire server (pglite-wire.ts). A seeded
// database is kept as a data-directory dump keyed by PGlite's version and the seed, so later starts
// load it (about a second) instead of creating and seeding a cluster again.

import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { servePglite } from './pglite-wire.js';
import { demoShops, type ShopSeed } from './shop-data.js';
import { createSideStatementCheck } from './side-statements.js';

export interface DemoDatabase {
  /** The name clients select with their startup `database`. */
  readonly name: string;
  readonly port: number;
  readonly counts: Readonly<Record<string, number>>;
}

export interface DemoDatabases extends AsyncDisposable {
  readonly list: readonly DemoDatabase[];
  close(): Promise<void>;
}

/** The installed PGlite's version (a dump is only loaded by the PGlite that wrote it). */
async function pgliteVersion(): Promise<string> {
  try {
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    let dir = path.dirname(entry);
    while (path.basename(dir) !== 'pglite' && path.dirname(dir) !== dir) dir = path.dirname(dir);
    const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
    return String((pkg as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/** A seeded database: from its cached dump when there is one, else created, seeded and dumped. */
async function openSeeded(seed: ShopSeed, cacheDir: string, version: string): Promise<PGlite> {
  const key = createHash('sha256').update(`${version}\0${seed.sql}`).digest('hex').slice(0, 24);
  const file = path.join(cacheDir, `pglite-${key}.tar.gz`);
  const cached = await readFile(file).catch(() => null);
  if (cached !== null) {
    try {
      return await PGlite.create({ loadDataDir: new Blob([new Uint8Array(cached)]) });
    } catch {
      // A damaged dump is rebuilt below.
    }
  }
  const db = await PGlite.create();
  try {
    await db.exec(seed.sql);
    const dump = await db.dumpDataDir('gzip');
    await mkdir(cacheDir, { recursive: true });
    await writeFile(file, new Uint8Array(await dump.arrayBuffer()));
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

export async function startDemoDatabases(cacheDir: string): Promise<DemoDatabases> {
  const [isSideStatement, version] = await Promise.all([
    createSideStatementCheck(),
    pgliteVersion(),
  ]);
  const shops = Object.entries(demoShops());
  const opened = await Promise.allSettled(
    shops.map(([, seed]) => openSeeded(seed, cacheDir, version)),
  );
  const dbs = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const failed = opened.find((o) => o.status === 'rejected');
  const servers: { close(): Promise<void> }[] = [];
  const close = async () => {
    for (const s of servers.splice(0)) await s.close();
    for (const db of dbs.splice(0)) await db.close();
  };
  if (failed !== undefined) {
    await close();
    throw new Error('the embedded database (PGlite) could not start', { cause: failed.reason });
  }
  const list: DemoDatabase[] = [];
  try {
    for (const [i, [name, seed]] of shops.entries()) {
      const server = await servePglite(dbs[i]!, { isSideStatement });
      servers.push(server);
      list.push({ name, port: server.port, counts: seed.counts });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { list, close, [Symbol.asyncDispose]: close };
}
