/** Restart supervision of the node's worker threads (pure back-off and state; fake timers, fake clock). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { restartDelay, Supervisor } from '../../worker-node/util/supervisor.ts';

const policy = { baseMs: 100, maxMs: 1000, failAfter: 2, stableMs: 10_000 };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('restartDelay', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => restartDelay(policy, n))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});

describe('Supervisor', () => {
  it('reports restarting until a restart succeeds, then ok', async () => {
    const restart = vi.fn(async () => {});
    const sup = new Supervisor(
      'part',
      restart,
      () => {},
      policy,
      () => Date.now(),
    );
    sup.crashed(new Error('thread exited with code 70'));
    expect(sup.health).toEqual({
      state: 'restarting',
      restarts: 0,
      last_error: 'thread exited with code 70',
    });
    await vi.advanceTimersByTimeAsync(99);
    expect(restart).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(restart).toHaveBeenCalledTimes(1);
    expect(sup.health.state).toBe('ok');
    expect(sup.health.restarts).toBe(1);
  });

  it('reports failed after repeated restarts that do not hold, and still retries', async () => {
    const restart = vi.fn(async () => {
      throw new Error('model file is corrupt');
    });
    const sup = new Supervisor(
      'part',
      restart,
      () => {},
      policy,
      () => Date.now(),
    );
    sup.crashed(new Error('died'));
    await vi.advanceTimersByTimeAsync(100); // attempt 1 fails → streak 2
    expect(sup.health.state).toBe('restarting');
    await vi.advanceTimersByTimeAsync(200); // attempt 2 fails → streak 3 > failAfter
    expect(sup.health).toMatchObject({ state: 'failed', last_error: 'model file is corrupt' });
    await vi.advanceTimersByTimeAsync(400);
    expect(restart).toHaveBeenCalledTimes(3);
  });

  it('starts the failure streak over after a restart that lived past stableMs', async () => {
    const sup = new Supervisor(
      'part',
      async () => {},
      () => {},
      policy,
      () => Date.now(),
    );
    sup.crashed(new Error('a'));
    await vi.advanceTimersByTimeAsync(100);
    sup.crashed(new Error('b')); // at once: streak 2, delay 200
    await vi.advanceTimersByTimeAsync(200);
    await vi.advanceTimersByTimeAsync(10_000);
    const events: unknown[] = [];
    const watched = new Supervisor(
      'w',
      async () => {},
      (e, f) => events.push([e, f]),
      policy,
      () => Date.now(),
    );
    watched.crashed(new Error('c'));
    expect(events).toEqual([['w.crashed', { error: 'c', attempt: 1, retry_in_ms: 100 }]]);
    sup.crashed(new Error('d')); // lived 10 s: streak back to 1, delay 100
    expect(sup.health.state).toBe('restarting');
    await vi.advanceTimersByTimeAsync(100);
    expect(sup.health).toMatchObject({ state: 'ok', restarts: 3 });
    watched.close();
  });

  it('does nothing after close()', async () => {
    const restart = vi.fn(async () => {});
    const sup = new Supervisor(
      'part',
      restart,
      () => {},
      policy,
      () => Date.now(),
    );
    sup.crashed(new Error('x'));
    sup.close();
    await vi.advanceTimersByTimeAsync(1000);
    expect(restart).not.toHaveBeenCalled();
  });
});
