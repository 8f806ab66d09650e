// Runs a psycopg 3 scenario script from test/drivers/py/ with the system interpreter (the one that has
// psycopg) and returns the JSON object it prints as its last stdout line.
import { fileURLToPath } from 'node:url';
import { run } from '../exec.js';
import { type Endpoint, endpointUrl, libpqEnv } from './driver-env.js';

export const PYTHON = '/usr/bin/python3';
const PY_DIR = fileURLToPath(new URL('../../drivers/py/', import.meta.url));

/**
 * `script` gets the gateway DSN in PGWARD_DSN (and the direct one in PGWARD_DIRECT_DSN when given);
 * scenario parameters go in argv.
 */
export async function runPython<T>(
  script: string,
  args: readonly string[],
  e: Endpoint,
  options: { direct?: Endpoint; timeoutMs?: number } = {},
): Promise<T> {
  const env = libpqEnv(e, {
    PGWARD_DSN: endpointUrl(e),
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    ...(options.direct === undefined ? {} : { PGWARD_DIRECT_DSN: endpointUrl(options.direct) }),
  });
  const stdout = await run(PYTHON, [`${PY_DIR}${script}`, ...args], {
    env,
    timeoutMs: options.timeoutMs ?? 90_000,
  });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as T;
  } catch (error) {
    throw new Error(`${script} printed no JSON result: ${stdout.slice(-500)}`, { cause: error });
  }
}
