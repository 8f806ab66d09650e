// Gateway cancel keys: the pid names the owning worker, only the exact secret cancels, release frees.
import { describe, expect, it } from 'vitest';
import { createCancelRegistry, MAX_WORKERS, workerOfPid } from './cancel-keys.js';

describe('cancel keys', () => {
  it.each([0, 1, 7, 128, MAX_WORKERS - 1])('worker %i: every pid names its worker', (worker) => {
    const registry = createCancelRegistry(worker);
    expect(registry.workerIndex).toBe(worker);
    for (let i = 0; i < 200; i++) {
      const { pid } = registry.issue(() => {});
      expect(workerOfPid(pid)).toBe(worker);
      // A pid is a positive int32, as a real backend pid is.
      expect(pid).toBeGreaterThan(0);
      expect(pid).toBeLessThanOrEqual(0x7fffffff);
    }
  });

  it.each([-1, MAX_WORKERS, 1.5, Number.NaN])('refuses worker index %s', (worker) => {
    expect(() => createCancelRegistry(worker)).toThrow(RangeError);
  });

  it('issues distinct pids while keys are live', () => {
    const registry = createCancelRegistry(3);
    const pids = new Set<number>();
    for (let i = 0; i < 5000; i++) pids.add(registry.issue(() => {}).pid);
    expect(pids.size).toBe(5000);
    expect(registry.size).toBe(5000);
  });

  it('runs the session cancel for the right pid and secret, once per request', () => {
    const registry = createCancelRegistry(2);
    const calls: string[] = [];
    const a = registry.issue(() => calls.push('a'));
    const b = registry.issue(() => calls.push('b'));
    expect(registry.cancelLocal(a.pid, a.secret)).toBe(true);
    expect(calls).toEqual(['a']);
    expect(registry.cancelLocal(b.pid, b.secret)).toBe(true);
    expect(calls).toEqual(['a', 'b']);
  });

  it('a wrong secret, another key’s secret or an unknown pid does not cancel', () => {
    const registry = createCancelRegistry(0);
    let cancelled = 0;
    const a = registry.issue(() => cancelled++);
    const b = registry.issue(() => cancelled++);
    const wrong = [a.secret ^ 1, a.secret ^ 0x80000000, ~a.secret, 0, -1, 0x7fffffff, -0x80000000];
    for (const secret of wrong.filter((s) => s !== a.secret)) {
      expect(registry.cancelLocal(a.pid, secret)).toBe(false);
    }
    if (b.secret !== a.secret) expect(registry.cancelLocal(a.pid, b.secret)).toBe(false);
    expect(registry.cancelLocal(a.pid + 0x1000, a.secret)).toBe(false);
    expect(registry.cancelLocal(0, a.secret)).toBe(false);
    expect(cancelled).toBe(0);
  });

  it('secrets are signed int32, as decoded from a CancelRequest', () => {
    const registry = createCancelRegistry(0);
    for (let i = 0; i < 100; i++) {
      const key = registry.issue(() => {});
      expect(Number.isInteger(key.secret)).toBe(true);
      expect(key.secret).toBe(key.secret | 0);
      expect(registry.cancelLocal(key.pid, key.secret | 0)).toBe(true);
    }
  });

  it('release() frees the key: it no longer cancels and the size drops', () => {
    const registry = createCancelRegistry(5);
    let cancelled = 0;
    const a = registry.issue(() => cancelled++);
    const b = registry.issue(() => cancelled++);
    expect(registry.size).toBe(2);
    a.release();
    expect(registry.size).toBe(1);
    expect(registry.cancelLocal(a.pid, a.secret)).toBe(false);
    a.release();
    expect(registry.size).toBe(1);
    expect(registry.cancelLocal(b.pid, b.secret)).toBe(true);
    expect(cancelled).toBe(1);
  });

  it('two registries (workers) never accept each other’s keys', () => {
    const w1 = createCancelRegistry(1);
    const w2 = createCancelRegistry(2);
    let cancelled = 0;
    const k1 = w1.issue(() => cancelled++);
    expect(w2.cancelLocal(k1.pid, k1.secret)).toBe(false);
    expect(workerOfPid(k1.pid)).toBe(1);
    expect(cancelled).toBe(0);
  });
});
