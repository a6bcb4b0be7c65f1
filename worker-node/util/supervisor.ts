/**
 * Supervision of a part that runs in a worker thread (the embedder's ONNX session, the FAISS
 * index): when it dies it is restarted with exponential back-off, and the part reports
 * `restarting` meanwhile, so /health says not-ready instead of lying. After `failAfter`
 * consecutive restarts that did not hold (the part died again within `stableMs`, or its start
 * failed) it reports `failed` and keeps retrying at the longest interval: a 3 a.m. operator sees
 * a node that gave up on itself, and a part that recovers still comes back.
 */

export type PartState = 'ok' | 'restarting' | 'failed';

export interface PartHealth {
  state: PartState;
  /** Restarts since the node started. */
  restarts: number;
  last_error: string | null;
}

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  failAfter: number;
  /** A restart that lived this long counts as a success: the failure streak starts over. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 30_000, failAfter: 5, stableMs: 60_000 };

/** Delay before restart attempt `attempt` (1-based): base × 2^(attempt-1), capped. */
export function restartDelay(policy: BackoffPolicy, attempt: number): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
}

export class Supervisor {
  private streak = 0;
  private restarts = 0;
  private lastError: string | null = null;
  private state: PartState = 'ok';
  private startedAt = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly name: string,
    /** Starts the part again; rejects when it could not. */
    private readonly restart: () => Promise<void>,
    private readonly onEvent: (event: string, fields: Record<string, unknown>) => void = () => {},
    private readonly policy: BackoffPolicy = DEFAULT_BACKOFF,
    private readonly now: () => number = Date.now,
  ) {}

  get health(): PartHealth {
    return { state: this.state, restarts: this.restarts, last_error: this.lastError };
  }

  /** The part died (or a start failed): schedule the next attempt. Idempotent while one is pending. */
  crashed(error: Error): void {
    if (this.closed) return;
    this.lastError = error.message.slice(0, 300);
    if (this.timer) return;
    if (this.now() - this.startedAt >= this.policy.stableMs) this.streak = 0;
    this.streak++;
    this.state = this.streak > this.policy.failAfter ? 'failed' : 'restarting';
    const delay = restartDelay(this.policy, this.streak);
    this.onEvent(`${this.name}.crashed`, { error: this.lastError, attempt: this.streak, retry_in_ms: delay });
    this.timer = setTimeout(() => void this.attempt(), delay);
    this.timer.unref();
  }

  private async attempt(): Promise<void> {
    this.timer = null;
    if (this.closed) return;
    this.restarts++;
    this.startedAt = this.now();
    try {
      await this.restart();
      this.state = 'ok';
      this.onEvent(`${this.name}.restarted`, { restarts: this.restarts });
    } catch (err) {
      this.crashed(err as Error);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
