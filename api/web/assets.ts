// The web view's static files (index.html, app.js, app.css beside this module), read once and served by
// the API itself: no CDN, no framework. From dist/ they are found in the package's api/web directory.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const WEB_ASSETS = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
} as const;

export type WebAsset = keyof typeof WEB_ASSETS;

/**
 * SECURITY: the page runs only its own script and style (no inline code, no other origin), may only
 * call this API, and cannot be framed.
 */
export const WEB_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** api/web beside the sources (tsx, vitest), or the package's api/web from dist/api/web. */
function webDir(): string {
  for (const rel of ['./', '../../../api/web/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error('the web view files (api/web/index.html) are not found beside the api module');
}

let cache: Map<WebAsset, Buffer> | null = null;

export function webAsset(name: WebAsset): Buffer {
  if (cache === null) {
    const dir = webDir();
    cache = new Map(
      (Object.keys(WEB_ASSETS) as WebAsset[]).map((n) => [n, readFileSync(`${dir}${n}`)]),
    );
  }
  return cache.get(name)!;
}
