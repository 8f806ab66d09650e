// Serves a Hono app on a node HTTP server (port 0 allowed) and closes it on dispose.

import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface ServedApi extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export function serveApi(app: Hono, host: string, port: number): Promise<ServedApi> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      const close = () =>
        new Promise<void>((done) => {
          server.close(() => done());
          (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        });
      resolve({
        port: info.port,
        url: `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`,
        close,
        [Symbol.asyncDispose]: close,
      });
    });
    server.once('error', reject);
  });
}
