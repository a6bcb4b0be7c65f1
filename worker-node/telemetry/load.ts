/**
 * The node's own view of its load: requests in flight, embedder queue, and event-loop lag.
 * `overloaded` tells the coordinator to shed reads to standbys; it never means "dead".
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** The sampling timer's period: the histogram records each period as it ran, delay included. */
export const LOOP_SAMPLE_MS = 10;

/**
 * The event loop's delay from the histogram's worst sample. Node's histogram records the whole
 * interval between two runs of its sampling timer, so an idle loop reads ~LOOP_SAMPLE_MS; the
 * delay is what exceeds the period.
 */
export function loopDelayMs(worstSampleNs: number): number {
  return Math.max(0, worstSampleNs / 1e6 - LOOP_SAMPLE_MS);
}

export class LoadMonitor {
  inflight = 0;
  private readonly delay: IntervalHistogram;
  private lagMs = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly limits: { inflight: number; loopLagMs: number },
    private readonly queued: () => number,
    private readonly forced: () => boolean = () => false,
  ) {
    this.delay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
    this.delay.enable();
    // Report the worst lag of the last second, then start a fresh window.
    this.timer = setInterval(() => {
      this.lagMs = loopDelayMs(this.delay.max);
      this.delay.reset();
    }, 1000);
    this.timer.unref();
  }

  get eventLoopLagMs(): number {
    return Math.round(Math.max(this.lagMs, loopDelayMs(this.delay.max)) * 10) / 10;
  }

  get overloaded(): boolean {
    return (
      this.forced() ||
      this.inflight >= this.limits.inflight ||
      this.eventLoopLagMs >= this.limits.loopLagMs ||
      this.queued() >= this.limits.inflight
    );
  }

  snapshot() {
    return {
      inflight: this.inflight,
      queued: this.queued(),
      event_loop_lag_ms: this.eventLoopLagMs,
      overloaded: this.overloaded,
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.delay.disable();
  }
}
