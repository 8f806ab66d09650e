// The running pgward version, read once from the package manifest.
import { readFileSync } from 'node:fs';
import { PACKAGE_ROOT } from './policy-commands.js';

export const PGWARD_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(`${PACKAGE_ROOT}/package.json`, 'utf8')) as { version: string })
      .version;
  } catch {
    return '0.0.0';
  }
})();
