// Gateway-issued cancel keys. Each session gets its own (pid, secret); the pid carries the index of the
// worker that owns the session so a CancelRequest accepted by any worker can be routed to the owner.
// SECURITY: the upstream's own key never leaves the gateway.

import { randomBytes, timingSafeEqual } from 'node:crypto';

const COUNTER_BITS = 22;
const COUNTER_MASK = (1 << COUNTER_BITS) - 1;
export const MAX_WORKERS = 256;

export interface CancelKey {
  readonly pid: number;
  readonly secret: number;
  release(): void;
}

export interface CancelRegistry {
  readonly workerIndex: number;
  issue(onCancel: () => void): CancelKey;
  /** Runs the session's cancel when pid belongs here and the secret matches; returns whether it did. */
  cancelLocal(pid: number, secret: number): boolean;
  readonly size: number;
}

export function workerOfPid(pid: number): number {
  return (pid >>> COUNTER_BITS) & (MAX_WORKERS - 1);
}

export function createCancelRegistry(workerIndex = 0): CancelRegistry {
  if (!Number.isInteger(workerIndex) || workerIndex < 0 || workerIndex >= MAX_WORKERS) {
    throw new RangeError(`worker index ${workerIndex} out of range`);
  }
  const entries = new Map<number, { secret: Buffer; onCancel: () => void }>();
  let counter = randomBytes(3).readUIntBE(0, 3) & COUNTER_MASK;
  return {
    workerIndex,
    get size() {
      return entries.size;
    },
    issue(onCancel) {
      let pid = 0;
      for (let tries = 0; tries <= COUNTER_MASK; tries++) {
        counter = (counter + 1) & COUNTER_MASK;
        if (counter === 0) continue;
        pid = (workerIndex << COUNTER_BITS) | counter;
        if (!entries.has(pid)) break;
      }
      const secretBytes = randomBytes(4);
      entries.set(pid, { secret: secretBytes, onCancel });
      return {
        pid,
        secret: secretBytes.readInt32BE(0),
        release: () => {
          entries.delete(pid);
        },
      };
    },
    cancelLocal(pid, secret) {
      const entry = entries.get(pid);
      if (entry === undefined) return false;
      const given = Buffer.alloc(4);
      given.writeInt32BE(secret, 0);
      if (!timingSafeEqual(given, entry.secret)) return false;
      entry.onCancel();
      return true;
    },
  };
}
