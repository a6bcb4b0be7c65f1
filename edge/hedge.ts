/**
 * When a read sends a second copy to another node ("hedging", The Tail at Scale; Envoy's and
 * gRPC's hedging policies): after a delay of about the p95 of recent good latencies for that
 * kind of read, clamped to a floor and a cap, and only while a token bucket allows it, so that
 * hedges stay near `budgetPercent` of reads even when every node is slow (hedging then would
 * double the load exactly when the cluster can least take it).
 *
 * Pure and clock-free: callers pass latencies and ask for decisions; edge/upstream.ts keeps one
 * policy per isolate and runs the race.
 */

/** `embed`: /v1/embeddings, whose latency grows with its batch, gets a window of its own. */
export type ReadKind = 'search' | 'document' | 'job' | 'embed';

export interface HedgeConfig {
  /** Never hedge sooner than this: below it a second copy mostly adds load. */
  floorMs: number;
  /** Never wait longer than this before hedging (also the delay while no latency is known). */
  capMs: number;
  /** Hedges allowed per 100 reads, in the long run. */
  budgetPercent: number;
  /** Hedges that may be spent at once after a quiet spell (the bucket's size). */
  burst: number;
}

export const DEFAULT_HEDGE: HedgeConfig = { floorMs: 40, capMs: 250, budgetPercent: 10, burst: 10 };

/** Good latencies kept per read kind; the p95 is taken over these. */
export const LATENCY_WINDOW = 200;

/** The last LATENCY_WINDOW latencies in a ring; p95 on demand (a sort of at most 200 numbers). */
export class LatencyWindow {
  private readonly samples: number[] = [];
  private next = 0;

  constructor(private readonly size = LATENCY_WINDOW) {}

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    if (this.samples.length < this.size) this.samples.push(ms);
    else this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.size;
  }

  get count(): number {
    return this.samples.length;
  }

  /** The q-quantile (nearest rank), or null with no samples. */
  quantile(q: number): number | null {
    if (this.samples.length === 0) return null;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return sorted[rank]!;
  }
}

/** Tokens earned per read (budgetPercent / 100), spent one per hedge, capped at `burst`. */
export class HedgeBudget {
  private tokens: number;

  constructor(private readonly config: Pick<HedgeConfig, 'budgetPercent' | 'burst'>) {
    this.tokens = config.burst;
  }

  /** Every read (hedged or not) earns a fraction of a token. */
  onRead(): void {
    this.tokens = Math.min(this.config.burst, this.tokens + this.config.budgetPercent / 100);
  }

  /** True, and one token spent, when a hedge may be sent now. */
  take(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  get available(): number {
    return this.tokens;
  }
}

/** Needs this many samples before the p95 is trusted; until then the cap is the delay. */
export const MIN_SAMPLES = 20;

export class HedgePolicy {
  private readonly windows = new Map<ReadKind, LatencyWindow>();
  readonly budget: HedgeBudget;
  /** Counters for /metrics and tests: reads seen, hedges sent, hedges refused by the budget. */
  readonly counts = { reads: 0, hedged: 0, refused: 0 };

  constructor(readonly config: HedgeConfig = DEFAULT_HEDGE) {
    this.budget = new HedgeBudget(config);
  }

  private window(kind: ReadKind): LatencyWindow {
    let w = this.windows.get(kind);
    if (!w) {
      w = new LatencyWindow();
      this.windows.set(kind, w);
    }
    return w;
  }

  /** A good answer's latency (the winner's; a loser aborted mid-flight is not a good latency). */
  recordGood(kind: ReadKind, ms: number): void {
    this.window(kind).record(ms);
  }

  /** How long the first attempt of a `kind` read gets before a hedge is considered. */
  delayMs(kind: ReadKind): number {
    const w = this.window(kind);
    const p95 = w.count >= MIN_SAMPLES ? w.quantile(0.95) : null;
    const { floorMs, capMs } = this.config;
    return Math.round(Math.min(capMs, Math.max(floorMs, p95 ?? capMs)));
  }

  /** Called once per read as it starts. */
  onRead(): void {
    this.counts.reads++;
    this.budget.onRead();
  }

  /**
   * Called when the hedge delay has passed: true means send the hedge now. `again`: the same
   * read asking after a refusal (counted as refused once per read).
   */
  allowHedge(again = false): boolean {
    if (this.budget.take()) {
      this.counts.hedged++;
      return true;
    }
    if (!again) this.counts.refused++;
    return false;
  }
}
