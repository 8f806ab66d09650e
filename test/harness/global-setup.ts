// Vitest globalSetup: one PostgreSQL cluster for the whole run, shared by every project that lists
// this file, handed to test workers as plain data through `inject('pg')`.
// Named `setup` export (vitest accepts it) rather than a default export, per CONVENTIONS.
import type { TestProject } from 'vitest/node';
import { type PgCluster, type PgInfo, startPostgres } from './postgres.js';

type Shared = { cluster: Promise<PgCluster>; users: number };

// Vitest runs globalSetup once per project; keep one cluster per process and refcount it so the
// integration and e2e projects share it and it stops after the last one tears down.
const SHARED = Symbol.for('pgward.test.harness.pg');
const registry = globalThis as typeof globalThis & { [SHARED]?: Shared };

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  registry[SHARED] ??= { cluster: startPostgres(), users: 0 };
  const shared = registry[SHARED];
  shared.users++;
  let cluster: PgCluster;
  try {
    cluster = await shared.cluster;
  } catch (error) {
    shared.users--;
    if (shared.users === 0) delete registry[SHARED];
    throw error;
  }
  project.provide('pg', toInfo(cluster));
  return async () => {
    shared.users--;
    if (shared.users > 0) return;
    delete registry[SHARED];
    await cluster[Symbol.asyncDispose]();
  };
}

function toInfo(c: PgCluster): PgInfo {
  return {
    host: c.host,
    port: c.port,
    database: c.database,
    superuser: c.superuser,
    scramUser: c.scramUser,
    scramPassword: c.scramPassword,
    md5User: c.md5User,
    md5Password: c.md5Password,
    caFile: c.caFile,
    socketDir: c.socketDir,
  };
}
