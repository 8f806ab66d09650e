// Reads a policy repository (Rego, data/*.json, grants/, approvals/, canary.json), validates every
// JSON file against its schema plus the repo rules (naming, windows, lifetimes, sql digests), and
// merges the data document. Every problem is collected, none is thrown.

import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Canaries, PolicyProblem } from '../contracts.js';
import { policyValidators, toProblems } from '../schemas.js';
import { readBytesBounded } from './files.js';

export interface PolicySource {
  /** The merged data document (schemas/policy-data.schema.json). */
  readonly data: Record<string, unknown>;
  readonly canaries: Canaries | null;
  /** Rego files of the policy (tests excluded), relative to the source directory. */
  readonly regoFiles: readonly string[];
  /** Every JSON file checked, relative to the source directory. */
  readonly jsonFiles: readonly string[];
  readonly problems: readonly PolicyProblem[];
}

const MAX_JSON_BYTES = 4 * 1024 * 1024;
const MAX_FILES = 10_000;
const HOUR_MS = 3_600_000;
/** Keys the build fills from their directories; a data/*.json file must not set them. */
const DIRECTORY_KEYS = new Set(['grants', 'approvals']);

export async function readPolicySource(sourceDir: string): Promise<PolicySource> {
  const problems: PolicyProblem[] = [];
  const validators = policyValidators();
  const jsonFiles: string[] = [];

  const readJson = async (rel: string): Promise<unknown> => {
    jsonFiles.push(rel);
    const read = await readBytesBounded(path.join(sourceDir, rel), MAX_JSON_BYTES);
    if (!read.ok) {
      problems.push({ file: rel, pointer: '', message: read.message });
      return undefined;
    }
    try {
      return JSON.parse(read.bytes.toString('utf8')) as unknown;
    } catch (err) {
      problems.push({
        file: rel,
        pointer: '',
        message: `is not valid JSON: ${(err as Error).message}`,
      });
      return undefined;
    }
  };

  // data/*.json: fragments of the data document, each owning some top-level keys.
  const data: Record<string, unknown> = {};
  const owner = new Map<string, string>();
  for (const rel of await listJson(sourceDir, 'data', problems)) {
    const doc = await readJson(rel);
    if (doc === undefined) continue;
    if (!validators.data(doc)) {
      problems.push(...toProblems(rel, validators.data.errors));
      continue;
    }
    for (const [key, value] of Object.entries(doc)) {
      if (key === '$schema') continue;
      if (DIRECTORY_KEYS.has(key)) {
        problems.push({
          file: rel,
          pointer: `/${key}`,
          message: `"${key}" comes from the ${key}/ directory, not from data files`,
        });
        continue;
      }
      const first = owner.get(key);
      if (first !== undefined) {
        problems.push({
          file: rel,
          pointer: `/${key}`,
          message: `"${key}" is already set by ${first}`,
        });
        continue;
      }
      owner.set(key, rel);
      data[key] = value;
    }
  }

  const lifetime = (key: string): number | undefined => {
    const hours = data[key];
    return typeof hours === 'number' ? hours * HOUR_MS : undefined;
  };

  const grants = await readEntries(sourceDir, 'grants', problems, readJson, (rel, doc) => {
    if (!validators.grant(doc)) return toProblems(rel, validators.grant.errors);
    return windowProblems(rel, doc, lifetime('max_grant_lifetime_hours'), 'grant');
  });
  const approvals = await readEntries(sourceDir, 'approvals', problems, readJson, (rel, doc) => {
    if (!validators.approval(doc)) return toProblems(rel, validators.approval.errors);
    const found = windowProblems(rel, doc, lifetime('max_approval_lifetime_hours'), 'approval');
    const digest = createHash('sha256').update(doc.sql, 'utf8').digest('hex');
    if (digest !== doc.sha256) {
      found.push({
        file: rel,
        pointer: '/sha256',
        message: `is not the sha256 of sql (${digest})`,
      });
    }
    return found;
  });
  data.grants = grants;
  data.approvals = approvals;
  if (!validators.data(data))
    problems.push(...toProblems('data.json (merged)', validators.data.errors));

  let canaries: Canaries | null = null;
  if (await exists(path.join(sourceDir, 'canary.json'))) {
    const doc = await readJson('canary.json');
    if (doc !== undefined) {
      if (validators.canaries(doc)) canaries = { cases: doc.cases };
      else problems.push(...toProblems('canary.json', validators.canaries.errors));
    }
  }

  const regoFiles = (await walk(sourceDir, '', problems))
    .filter((rel) => rel.endsWith('.rego') && !rel.endsWith('_test.rego'))
    .sort();
  if (regoFiles.length === 0)
    problems.push({ file: '.', pointer: '', message: 'holds no .rego policy file' });

  return { data, canaries, regoFiles, jsonFiles, problems };
}

type Entry = Record<string, unknown> & { readonly id: string };

/** grants/*.json or approvals/*.json: each validated, named <id>.json, ids unique; sorted by id. */
async function readEntries(
  sourceDir: string,
  dir: string,
  problems: PolicyProblem[],
  readJson: (rel: string) => Promise<unknown>,
  check: (rel: string, doc: unknown) => PolicyProblem[],
): Promise<Entry[]> {
  const byId = new Map<string, string>();
  const entries: Entry[] = [];
  for (const rel of await listJson(sourceDir, dir, problems)) {
    const doc = await readJson(rel);
    if (doc === undefined) continue;
    const found = check(rel, doc);
    if (found.length > 0) {
      problems.push(...found);
      continue;
    }
    // Validated above: an object with a string id. $schema is for editors, not for the policy.
    const { $schema: _editorOnly, ...entry } = doc as Entry;
    const id = entry.id as string;
    if (path.basename(rel) !== `${id}.json`) {
      problems.push({
        file: rel,
        pointer: '/id',
        message: `must match the file name (${id}.json)`,
      });
    }
    const first = byId.get(id);
    if (first !== undefined) {
      problems.push({ file: rel, pointer: '/id', message: `"${id}" is also the id of ${first}` });
      continue;
    }
    byId.set(id, rel);
    entries.push({ ...entry, id });
  }
  return entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function windowProblems(
  rel: string,
  doc: { not_before: string; expires_at: string },
  maxMs: number | undefined,
  what: string,
): PolicyProblem[] {
  const span = Date.parse(doc.expires_at) - Date.parse(doc.not_before);
  if (!(span > 0))
    return [{ file: rel, pointer: '/expires_at', message: 'must be after not_before' }];
  if (maxMs !== undefined && span > maxMs) {
    return [
      {
        file: rel,
        pointer: '/expires_at',
        message: `makes the ${what} last ${span / HOUR_MS} hours, above the maximum of ${maxMs / HOUR_MS}`,
      },
    ];
  }
  return [];
}

async function listJson(
  sourceDir: string,
  dir: string,
  problems: PolicyProblem[],
): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(path.join(sourceDir, dir));
  } catch {
    return []; // an absent directory holds nothing
  }
  if (names.length > MAX_FILES) {
    problems.push({ file: dir, pointer: '', message: `holds more than ${MAX_FILES} files` });
    return [];
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => `${dir}/${n}`);
}

/** Every file under dir (hidden entries and node_modules skipped), relative, "/"-separated. */
async function walk(
  root: string,
  rel: string,
  problems: PolicyProblem[],
  depth = 0,
): Promise<string[]> {
  if (depth > 16) {
    problems.push({ file: rel, pointer: '', message: 'is nested too deeply' });
    return [];
  }
  const out: string[] = [];
  let dirents: Dirent[];
  try {
    dirents = await readdir(path.join(root, rel), { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    problems.push({
      file: rel === '' ? '.' : rel,
      pointer: '',
      message: `cannot be read (${code})`,
    });
    return [];
  }
  for (const d of dirents) {
    if (d.name.startsWith('.') || d.name === 'node_modules') continue;
    const child = rel === '' ? d.name : `${rel}/${d.name}`;
    if (d.isDirectory()) out.push(...(await walk(root, child, problems, depth + 1)));
    else if (d.isFile()) out.push(child);
    if (out.length > MAX_FILES) {
      problems.push({
        file: rel === '' ? '.' : rel,
        pointer: '',
        message: `holds more than ${MAX_FILES} files`,
      });
      return out;
    }
  }
  return out;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
