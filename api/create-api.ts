// The HTTP API (credentials, policy webhook, audit queries, health): built by a factory that never listens
// by itself, so tests call app.request() in-process and the CLI decides where it is served.

import { Hono } from 'hono';
import type { Logger } from '../lib/log.js';
import { ProblemError, problemResponse } from './problem.js';

/** A route module adds its routes to the app. */
export type ApiRoutes = (app: Hono) => void;

export interface ApiDeps {
  readonly log: Logger;
  readonly routes: readonly ApiRoutes[];
}

export function createApi(deps: ApiDeps): Hono {
  const app = new Hono();
  app.onError((err, c) => {
    if (err instanceof ProblemError) return problemResponse(c, err.problem);
    deps.log.error('api error', { path: c.req.path, err });
    return problemResponse(c, { title: 'Internal Server Error', status: 500 });
  });
  app.notFound((c) => problemResponse(c, { title: 'Not Found', status: 404, detail: c.req.path }));
  for (const routes of deps.routes) routes(app);
  return app;
}
