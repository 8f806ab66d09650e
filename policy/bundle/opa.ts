// Runs the pinned OPA CLI (a build-time tool only) with a timeout and bounded output; it never
// throws: a missing binary or a failing command is a result the caller reports.

import { execFile } from 'node:child_process';

export interface OpaRun {
  /** Exit code; null when opa could not be started or was killed. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Why opa did not run to a zero exit: not found, killed on timeout, exit status. */
  readonly error?: string;
}

/** Everything a failed run said (opa writes its compile errors to stdout). */
export function opaOutput(run: OpaRun): string {
  return [run.stdout, run.stderr, run.error ?? '']
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .join('\n');
}

export interface OpaRunOptions {
  readonly cwd?: string;
  readonly timeoutMs?: number;
  readonly maxOutputBytes?: number;
}

export function runOpa(
  opaPath: string,
  args: readonly string[],
  options: OpaRunOptions = {},
): Promise<OpaRun> {
  return new Promise((resolve) => {
    execFile(
      opaPath,
      args,
      {
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: options.maxOutputBytes ?? 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error === null) return resolve({ code: 0, stdout, stderr });
        const code = typeof error.code === 'number' ? error.code : null;
        const reason = error.killed
          ? `opa killed after timeout (${error.signal ?? 'signal'})`
          : error.message;
        resolve({ code, stdout, stderr, error: reason });
      },
    );
  });
}

/** The version `opa version` reports ("1.22.2"), or undefined when it cannot be read. */
export async function opaVersion(opaPath: string): Promise<string | undefined> {
  const run = await runOpa(opaPath, ['version'], { timeoutMs: 30_000 });
  if (run.code !== 0) return undefined;
  return /^Version:\s*(\S+)/m.exec(run.stdout)?.[1];
}
