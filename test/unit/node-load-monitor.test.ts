import { describe, expect, it } from 'vitest';
import { LOOP_SAMPLE_MS, LoadMonitor, loopDelayMs } from '../../worker-node/telemetry/load.ts';

describe('event-loop lag', () => {
  it('is the time a sample ran past its period, not the period itself', () => {
    // Node's histogram records whole sampling periods: an idle loop's samples read the period.
    expect(loopDelayMs(LOOP_SAMPLE_MS * 1e6)).toBe(0);
    expect(loopDelayMs((LOOP_SAMPLE_MS + 0.4) * 1e6)).toBeCloseTo(0.4, 6);
    expect(loopDelayMs((LOOP_SAMPLE_MS + 50) * 1e6)).toBeCloseTo(50, 6);
    // An empty histogram (no sample yet) reads 0.
    expect(loopDelayMs(0)).toBe(0);
  });

  it('sees the loop blocked, and calls the node overloaded past its bound', async () => {
    const monitor = new LoadMonitor({ inflight: 1000, loopLagMs: 100 }, () => 0);
    try {
      await new Promise((r) => setTimeout(r, 50));
      const until = performance.now() + 150;
      while (performance.now() < until) {
        // the loop is blocked
      }
      await new Promise((r) => setTimeout(r, 3 * LOOP_SAMPLE_MS));
      expect(monitor.eventLoopLagMs).toBeGreaterThanOrEqual(140 - LOOP_SAMPLE_MS);
      expect(monitor.snapshot().overloaded).toBe(true);
    } finally {
      monitor.stop();
    }
  });
});
