// Turns what a driver decoded into JSON-comparable cells: dates as ISO text, bytes as hex, the rest as
// they are (the gateway's answer is always compared with the same driver's direct answer).
import type { CaseResult, Cell } from './case.js';

export function normalize(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array)
    return `\\x${Buffer.from(value).toString('hex')}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return value.map(normalize);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

interface DriverError {
  readonly code?: unknown;
  readonly message?: unknown;
}

export function failure(error: unknown): CaseResult {
  const e = (error ?? {}) as DriverError;
  return {
    ok: false,
    sqlstate: typeof e.code === 'string' ? e.code : null,
    message: typeof e.message === 'string' ? e.message : String(error),
    columns: [],
    rows: [],
  };
}
