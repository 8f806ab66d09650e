// The external drivers: psql (one process per case, --csv output between markers, COPY data as
// written to stdout) and psycopg 3 (one process per run, text or binary cursors on one connection).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Endpoint, endpointUrl, libpqEnv, PSQL } from '../drivers/driver-env.js';
import { PYTHON } from '../drivers/python.js';
import { run } from '../exec.js';
import type { CaseResult, MaskCase } from './case.js';
import { csvRows } from './copy-format.js';

const BEGIN = Buffer.from('@@mt-begin\n');
const END = Buffer.from('@@mt-end\n');

function spawnBuffer(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { env, encoding: 'buffer', timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        if (code < 0) reject(error ?? new Error(`${file} failed`));
        else resolve({ code, stdout, stderr: stderr.toString('utf8') });
      },
    );
  });
}

/** One case through psql: `before`, the statement between markers, `after`; stops at the first error. */
export async function runPsqlCase(e: Endpoint, c: MaskCase): Promise<CaseResult> {
  const args = ['-X', '-q', '--csv', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose'];
  args.push('-d', endpointUrl(e, false));
  for (const s of c.before ?? []) args.push('-c', s);
  args.push('-c', '\\echo @@mt-begin', '-c', c.sql, '-c', '\\echo @@mt-end');
  for (const s of c.after ?? []) args.push('-c', s);
  const out = await spawnBuffer(PSQL, args, libpqEnv(e));
  const start = out.stdout.indexOf(BEGIN);
  const end = out.stdout.indexOf(END, start);
  if (start < 0 || end < 0) {
    const m = /ERROR:\s+([0-9A-Z]{5}):\s+(.*)/.exec(out.stderr);
    return {
      ok: false,
      sqlstate: m?.[1] ?? null,
      message: m?.[2] ?? out.stderr.trim(),
      columns: [],
      rows: [],
    };
  }
  const body = out.stdout.subarray(start + BEGIN.length, end);
  if (c.copy !== undefined)
    return { ok: true, sqlstate: null, message: null, columns: [], rows: [], copy: body };
  const [header, ...rows] = csvRows(body.toString('utf8'));
  return {
    ok: true,
    sqlstate: null,
    message: null,
    columns: (header ?? []).map((name) => ({ name: name ?? '', type: -1 })),
    rows,
  };
}

const SCRIPT = fileURLToPath(new URL('./masking_table.py', import.meta.url));

interface PyResult {
  readonly ok: boolean;
  readonly sqlstate: string | null;
  readonly message: string | null;
  readonly columns: { name: string; type: number }[];
  readonly rows: unknown[][];
  readonly copy: string | null;
}

/** Every case through psycopg on one connection; `binary` uses `conn.cursor(binary=True)`. */
export async function runPsycopgCases(
  e: Endpoint,
  cases: readonly MaskCase[],
  binary: boolean,
): Promise<CaseResult[]> {
  const input = {
    binary,
    cases: cases.map((c) => ({
      before: c.before ?? [],
      sql: c.sql,
      after: c.after ?? [],
      copy: c.copy !== undefined,
    })),
  };
  const stdout = await run(PYTHON, [SCRIPT], {
    env: libpqEnv(e, { PGWARD_DSN: endpointUrl(e), PYTHONDONTWRITEBYTECODE: '1' }),
    input: JSON.stringify(input),
    timeoutMs: 60_000,
  });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  const parsed = JSON.parse(last) as { results: PyResult[] };
  return parsed.results.map((r) => ({
    ok: r.ok,
    sqlstate: r.sqlstate,
    message: r.message,
    columns: r.columns,
    rows: r.rows,
    ...(r.copy === null ? {} : { copy: Buffer.from(r.copy, 'base64') }),
  }));
}
