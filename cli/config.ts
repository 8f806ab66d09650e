// Loads the one config file: YAML, environment overrides, JSON Schema validation with defaults, secret
// references checked, then deep-frozen. Every problem is reported at once with its JSON pointer.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { PgwardError } from '../lib/errors.js';
import schema from '../schemas/config.schema.json' with { type: 'json' };
import type { PgwardConfigResolved, SecretRef } from '../schemas/generated/config.js';

export interface ConfigProblem {
  readonly pointer: string;
  readonly message: string;
}

export type ConfigResult =
  | {
      readonly ok: true;
      readonly config: PgwardConfigResolved;
      readonly secret: (ref: SecretRef) => Buffer;
      /** Relative paths in the config resolve against this directory. */
      readonly configDir: string;
    }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

const ajv = new Ajv({
  allErrors: true,
  useDefaults: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
});
const validate = ajv.compile<PgwardConfigResolved>(schema);

const ENV_PREFIX = 'PGWARD_';

/** Applies PGWARD_<SECTION>__<KEY>=value overrides; values are parsed as JSON when they parse. */
export function applyEnvOverrides(
  doc: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const keys = name.slice(ENV_PREFIX.length).toLowerCase().split('__');
    if (keys.length < 1 || keys.some((k) => k === '')) continue;
    if (!Object.hasOwn(schema.properties, keys[0]!)) continue;
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string value
    }
    let node: Record<string, unknown> = doc;
    for (const key of keys.slice(0, -1)) {
      const next = node[key];
      if (next === undefined) node[key] = {};
      else if (next === null || typeof next !== 'object' || Array.isArray(next)) {
        problems.push({ pointer: `/${keys.join('/')}`, message: `${name} overrides a non-object` });
        node = {};
        break;
      }
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]!] = value;
  }
  return problems;
}

function pointerOf(e: ErrorObject): string {
  if (e.keyword === 'required') return `${e.instancePath}/${String(e.params.missingProperty)}`;
  if (e.keyword === 'additionalProperties')
    return `${e.instancePath}/${String(e.params.additionalProperty)}`;
  return e.instancePath === '' ? '/' : e.instancePath;
}

function collectSecretRefs(node: unknown, pointer: string, out: [string, SecretRef][]): void {
  if (node === null || typeof node !== 'object') return;
  const keys = Object.keys(node);
  if (keys.length === 1 && (keys[0] === 'env' || keys[0] === 'file')) {
    out.push([pointer, node as SecretRef]);
    return;
  }
  for (const [k, v] of Object.entries(node)) collectSecretRefs(v, `${pointer}/${k}`, out);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Parses and validates config text. `baseDir` anchors relative `{file: …}` secret paths. */
export function loadConfig(text: string, env: NodeJS.ProcessEnv, baseDir: string): ConfigResult {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return {
      ok: false,
      problems: [{ pointer: '/', message: `not valid YAML: ${(err as Error).message}` }],
    };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, problems: [{ pointer: '/', message: 'the config must be a mapping' }] };
  }
  const problems = applyEnvOverrides(doc as Record<string, unknown>, env);
  if (!validate(doc)) {
    for (const e of validate.errors ?? [])
      problems.push({ pointer: pointerOf(e), message: e.message ?? e.keyword });
  }
  if (problems.length > 0) return { ok: false, problems };
  const secret = (ref: SecretRef): Buffer => {
    if ('env' in ref) {
      const value = env[ref.env];
      if (value === undefined)
        throw new PgwardError(
          'PGW_CONFIG_SECRET_UNRESOLVED',
          `environment variable ${ref.env} is not set`,
        );
      return Buffer.from(value, 'utf8');
    }
    try {
      return readFileSync(path.resolve(baseDir, ref.file));
    } catch (err) {
      throw new PgwardError('PGW_CONFIG_SECRET_UNRESOLVED', `cannot read secret file ${ref.file}`, {
        cause: err,
      });
    }
  };
  const refs: [string, SecretRef][] = [];
  collectSecretRefs(doc, '', refs);
  for (const [pointer, ref] of refs) {
    try {
      secret(ref);
    } catch (err) {
      problems.push({ pointer, message: (err as Error).message });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: deepFreeze(doc as PgwardConfigResolved), secret, configDir: baseDir };
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv): ConfigResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return {
      ok: false,
      problems: [{ pointer: '/', message: `cannot read ${file}: ${(err as Error).message}` }],
    };
  }
  return loadConfig(text, env, path.dirname(path.resolve(file)));
}

/** Schema problems of a config text, without resolving secrets (for documentation and editors). */
export function configShapeProblems(text: string): ConfigProblem[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return [{ pointer: '/', message: `not valid YAML: ${(err as Error).message}` }];
  }
  if (validate(doc)) return [];
  return (validate.errors ?? []).map((e) => ({
    pointer: pointerOf(e),
    message: e.message ?? e.keyword,
  }));
}
