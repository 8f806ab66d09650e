// Building blocks of the read queries: parameter-only conditions, page sizes and opaque cursors.
// SECURITY: a Where holds constant SQL fragments; every caller value goes into its params.

import { toChTime } from './sink.js';

/** A malformed filter or cursor: the caller's fault (the API answers 400). */
export class AuditQueryError extends Error {
  override readonly name = 'AuditQueryError';
}

export interface PageRequest {
  /** 1 to MAX_PAGE; default 100. */
  readonly limit?: number;
  /** The `next` of the previous page. */
  readonly cursor?: string | null;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Cursor of the following page; null on the last page. */
  readonly next: string | null;
}

export const MAX_PAGE = 1000;
export const TS = "DateTime64(3, 'UTC')";

/** Conditions and their parameters; fragments are constants of this file, never caller text. */
export class Where {
  readonly parts: string[] = [];
  readonly params: Record<string, unknown> = {};
  add(fragment: string, params: Record<string, unknown> = {}): this {
    this.parts.push(fragment);
    Object.assign(this.params, params);
    return this;
  }
  get sql(): string {
    return this.parts.length === 0 ? '' : ` WHERE ${this.parts.join(' AND ')}`;
  }
}

export function time(value: string, what: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new AuditQueryError(`${what} is not a timestamp: ${value}`);
  return toChTime(new Date(ms).toISOString());
}

export function pageSize(request: PageRequest): number {
  const limit = request.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw new AuditQueryError(`limit must be an integer from 1 to ${MAX_PAGE}`);
  return limit;
}

export const encodeCursor = (key: readonly (string | number)[]): string =>
  Buffer.from(JSON.stringify(key)).toString('base64url');

export function decodeCursor(cursor: string, shape: readonly ('string' | 'number')[]): unknown[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new AuditQueryError('cursor is malformed');
  }
  if (
    !Array.isArray(key) ||
    key.length !== shape.length ||
    key.some((v, i) => typeof v !== shape[i])
  )
    throw new AuditQueryError('cursor is malformed');
  return key;
}
