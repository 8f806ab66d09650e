// RFC 9457 problem details: the one place the HTTP API turns errors into responses.

import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface Problem {
  readonly type?: string;
  readonly title: string;
  readonly status: ContentfulStatusCode;
  readonly detail?: string;
  readonly [extension: string]: unknown;
}

/** An error a route throws to answer with a specific problem. */
export class ProblemError extends Error {
  readonly problem: Problem;

  constructor(problem: Problem, options?: { cause?: unknown }) {
    super(problem.detail ?? problem.title, options);
    this.name = 'ProblemError';
    this.problem = problem;
  }
}

export function problemResponse(c: Context, problem: Problem): Response {
  const body = { type: problem.type ?? 'about:blank', ...problem };
  return c.body(JSON.stringify(body), problem.status, {
    'content-type': 'application/problem+json',
  });
}

export const problems = {
  unauthorized: (detail: string) =>
    new ProblemError({ title: 'Unauthorized', status: 401, detail }),
  forbidden: (detail: string) => new ProblemError({ title: 'Forbidden', status: 403, detail }),
  badRequest: (detail: string, errors?: unknown) =>
    new ProblemError({
      title: 'Bad Request',
      status: 400,
      detail,
      ...(errors !== undefined ? { errors } : {}),
    }),
  notFound: (detail: string) => new ProblemError({ title: 'Not Found', status: 404, detail }),
  unavailable: (detail: string) =>
    new ProblemError({ title: 'Service Unavailable', status: 503, detail }),
} as const;
