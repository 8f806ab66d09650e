// Judges the client's startup parameters: `user` is only a hint, `database` selects an upstream, and every
// other setting (including each one inside `options`) must pass the allow-list before it is forwarded.

export interface StartupPolicy {
  /** Lower-case names of settings a client may pass. */
  allowed: ReadonlySet<string>;
  /** search_path values a client may set, compared after whitespace normalisation. */
  allowedSearchPaths: ReadonlySet<string>;
}

export type StartupVerdict =
  | {
      ok: true;
      user: string;
      database: string;
      /** Settings to forward upstream, names lower-cased. */
      settings: Map<string, string>;
      applicationName: string;
    }
  | { ok: false; refused: 'user' | 'replication' | 'search_path' | 'options'; name: string };

/** Parameters consumed by pgward itself and never forwarded as settings. */
const CONSUMED = new Set(['user', 'database', 'options', 'replication']);

export function judgeStartup(
  params: ReadonlyMap<string, string>,
  policy: StartupPolicy,
): StartupVerdict {
  const user = params.get('user');
  if (user === undefined || user === '') return { ok: false, refused: 'user', name: 'user' };
  if (params.has('replication')) return { ok: false, refused: 'replication', name: 'replication' };
  const settings = new Map<string, string>();
  for (const [rawName, value] of params) {
    if (CONSUMED.has(rawName)) continue;
    // Protocol extension parameters (_pq_.*) are dropped: pgward speaks plain 3.0 upstream.
    if (rawName.startsWith('_pq_.')) continue;
    settings.set(rawName.toLowerCase(), value);
  }
  const options = params.get('options');
  if (options !== undefined) {
    const parsed = parseOptions(options);
    if (!parsed.ok) return { ok: false, refused: 'options', name: parsed.name };
    for (const [name, value] of parsed.settings) settings.set(name, value);
  }
  for (const [name, value] of settings) {
    if (!policy.allowed.has(name)) return { ok: false, refused: 'options', name };
    if (name === 'search_path' && !policy.allowedSearchPaths.has(normaliseSearchPath(value))) {
      return { ok: false, refused: 'search_path', name };
    }
  }
  return {
    ok: true,
    user,
    database: params.get('database') || user,
    settings,
    applicationName: settings.get('application_name') ?? '',
  };
}

export function normaliseSearchPath(value: string): string {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .join(', ');
}

type ParsedOptions = { ok: true; settings: Map<string, string> } | { ok: false; name: string };

/**
 * Parses the `options` startup parameter the way the server does: words split on unescaped white space,
 * a backslash escapes the next character; `-c name=value`, `-cname=value` and `--name=value` set a
 * parameter. Any other switch is refused.
 */
export function parseOptions(options: string): ParsedOptions {
  const words = splitWords(options);
  const settings = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    let assignment: string | undefined;
    if (word === '-c') assignment = words[++i];
    else if (word.startsWith('--')) assignment = word.slice(2);
    else if (word.startsWith('-c')) assignment = word.slice(2);
    else return { ok: false, name: word };
    if (assignment === undefined) return { ok: false, name: word };
    const eq = assignment.indexOf('=');
    if (eq <= 0) return { ok: false, name: assignment };
    const name = assignment.slice(0, eq).toLowerCase().replaceAll('-', '_');
    settings.set(name, assignment.slice(eq + 1));
  }
  return { ok: true, settings };
}

function splitWords(input: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (ch === '\\' && i + 1 < input.length) {
      current += input[++i];
      inWord = true;
    } else if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

/** Splits a search_path setting into schema names the way the server reads it (quotes keep case). */
export function searchPathList(value: string): string[] {
  const out: string[] = [];
  for (const raw of value.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    if (item.startsWith('"') && item.endsWith('"') && item.length >= 2) {
      out.push(item.slice(1, -1).replaceAll('""', '"'));
    } else out.push(item.toLowerCase());
  }
  return out;
}
