// A minimal, bounded reader for the gzipped ustar archive `opa build` writes: it returns the
// regular files asked for and nothing else. Every size is checked before it is trusted.

import { gunzipSync } from 'node:zlib';

const BLOCK = 512;

export interface TarLimits {
  /** Upper bound of the unpacked archive, checked by zlib while inflating. */
  readonly maxUnpackedBytes: number;
  /** Upper bound of the number of entries walked. */
  readonly maxEntries: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = {
  maxUnpackedBytes: 256 * 1024 * 1024,
  maxEntries: 10_000,
};

export type TarResult =
  | { readonly ok: true; readonly files: ReadonlyMap<string, Buffer> }
  | { readonly ok: false; readonly message: string };

/** Entry names are normalised without their leading "/" or "./" (opa writes "/policy.wasm"). */
export function normalizeEntryName(name: string): string {
  let n = name;
  while (n.startsWith('./') || n.startsWith('/')) n = n.startsWith('/') ? n.slice(1) : n.slice(2);
  return n;
}

/** Reads the `wanted` regular files out of a .tar.gz; a name present twice is an error. */
export function readTarGz(
  gz: Uint8Array,
  wanted: ReadonlySet<string>,
  limits: TarLimits = DEFAULT_TAR_LIMITS,
): TarResult {
  let tar: Buffer;
  try {
    tar = gunzipSync(gz, { maxOutputLength: limits.maxUnpackedBytes });
  } catch (err) {
    const reason =
      err instanceof RangeError ? `larger than ${limits.maxUnpackedBytes} bytes` : 'not gzip';
    return { ok: false, message: `bundle archive is ${reason}` };
  }
  return readTar(tar, wanted, limits);
}

export function readTar(
  tar: Buffer,
  wanted: ReadonlySet<string>,
  limits: TarLimits = DEFAULT_TAR_LIMITS,
): TarResult {
  const files = new Map<string, Buffer>();
  let offset = 0;
  let paxPath: string | undefined;
  for (let entries = 0; ; entries++) {
    if (entries >= limits.maxEntries) {
      return { ok: false, message: `bundle archive has more than ${limits.maxEntries} entries` };
    }
    if (offset + BLOCK > tar.length) return { ok: false, message: 'bundle archive is truncated' };
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    if (!checksumMatches(header)) {
      return { ok: false, message: `bundle archive header at byte ${offset} has a bad checksum` };
    }
    const size = parseOctal(header.subarray(124, 136));
    if (size === undefined) {
      return { ok: false, message: `bundle archive entry at byte ${offset} has an invalid size` };
    }
    const dataStart = offset + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > tar.length) return { ok: false, message: 'bundle archive is truncated' };
    const body = tar.subarray(dataStart, dataEnd);
    const type = String.fromCharCode(header[156] ?? 0);
    if (type === 'x') {
      paxPath = paxRecord(body, 'path');
    } else {
      const name = normalizeEntryName(paxPath ?? entryName(header));
      paxPath = undefined;
      if ((type === '0' || type === '\0') && wanted.has(name)) {
        if (files.has(name)) return { ok: false, message: `bundle archive holds ${name} twice` };
        files.set(name, Buffer.from(body));
      }
    }
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  return { ok: true, files };
}

function entryName(header: Buffer): string {
  const name = cString(header.subarray(0, 100));
  const magic = header.subarray(257, 262).toString('latin1');
  const prefix = magic === 'ustar' ? cString(header.subarray(345, 500)) : '';
  return prefix === '' ? name : `${prefix}/${name}`;
}

function cString(field: Buffer): string {
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

/** Octal, NUL- or space-terminated; base-256 sizes (files over 8 GiB) are refused. */
function parseOctal(field: Buffer): number | undefined {
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .trim();
  if (!/^[0-7]{1,11}$/.test(text)) return undefined;
  return Number.parseInt(text, 8);
}

function checksumMatches(header: Buffer): boolean {
  const stored = parseOctal(header.subarray(148, 156));
  if (stored === undefined) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return sum === stored;
}

/** One value of a PAX extended header ("<len> <key>=<value>\n" records). */
function paxRecord(body: Buffer, key: string): string | undefined {
  let value: string | undefined;
  for (const line of body.toString('utf8').split('\n')) {
    const space = line.indexOf(' ');
    const eq = line.indexOf('=');
    if (space === -1 || eq < space) continue;
    if (line.slice(space + 1, eq) === key) value = line.slice(eq + 1);
  }
  return value;
}
