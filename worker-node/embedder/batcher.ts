/**
 * Micro-batcher: concurrent embed() calls are coalesced into dispatches under a token budget
 * (batch × padded length ≤ maxBatchTokens) after a short wait (maxBatchWaitMs), because one
 * session run over 32 texts costs little more than one over a single text. The queue is bounded
 * (maxQueue texts): past it callers get QueueFullError at once, which the HTTP layer turns into
 * 429, instead of piling up latency. Pure apart from timers; the runner is injected.
 */
import { EmbedderUnavailableError, QueueFullError } from './errors.ts';

export interface BatcherOptions<R> {
  maxBatchTokens: number;
  maxBatchWaitMs: number;
  maxQueue: number;
  /** false: each call's texts are dispatched alone, with no waiting for company. */
  batching: boolean;
  estimateTokens(text: string): number;
  run(texts: string[]): Promise<R[]>;
  now?: () => number;
}

export interface Timed<R> {
  results: R[];
  /** From submit until the call's first text was dispatched. */
  queueMs: number;
  /** From that dispatch until the call's last result came back. */
  runMs: number;
}

interface Request<R> {
  results: R[];
  remaining: number;
  enqueuedAt: number;
  startedAt: number | null;
  settled: boolean;
  resolve(value: Timed<R>): void;
  reject(err: unknown): void;
}

interface Item<R> {
  request: Request<R>;
  index: number;
  text: string;
  tokens: number;
}

export class MicroBatcher<R> {
  private queue: Item<R>[] = [];
  private running: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private inflightTexts = 0;
  private readonly now: () => number;

  constructor(private readonly opts: BatcherOptions<R>) {
    this.now = opts.now ?? (() => performance.now());
  }

  get queued(): number {
    return this.queue.length;
  }

  get inflight(): number {
    return this.inflightTexts;
  }

  submit(texts: string[], signal?: AbortSignal): Promise<Timed<R>> {
    if (this.closed) return Promise.reject(new EmbedderUnavailableError('embedder is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (texts.length === 0) return Promise.resolve({ results: [], queueMs: 0, runMs: 0 });
    if (this.queue.length + texts.length > this.opts.maxQueue) {
      return Promise.reject(new QueueFullError(this.queue.length, texts.length, this.opts.maxQueue));
    }
    return new Promise<Timed<R>>((resolve, reject) => {
      const onAbort = () => this.abort(request, signal!.reason);
      const request: Request<R> = {
        results: new Array<R>(texts.length),
        remaining: texts.length,
        enqueuedAt: this.now(),
        startedAt: null,
        settled: false,
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      texts.forEach((text, index) =>
        this.queue.push({ request, index, text, tokens: this.opts.estimateTokens(text) }),
      );
      this.schedule();
    });
  }

  /** Refuses new work, fails what is still queued, and waits for the dispatch in flight. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const queued = this.queue;
    this.queue = [];
    for (const item of queued)
      this.fail(item.request, new EmbedderUnavailableError('embedder closed before this text was embedded'));
    await this.running;
  }

  private abort(request: Request<R>, reason: unknown): void {
    // Texts already dispatched finish anyway (a session run cannot be interrupted); their results are dropped.
    this.queue = this.queue.filter((item) => item.request !== request);
    this.fail(request, reason);
  }

  private fail(request: Request<R>, err: unknown): void {
    if (request.settled) return;
    request.settled = true;
    request.reject(err);
  }

  private schedule(): void {
    if (this.running || this.closed || this.queue.length === 0) return;
    const waited = this.now() - this.queue[0]!.request.enqueuedAt;
    if (!this.opts.batching || waited >= this.opts.maxBatchWaitMs || this.plan().full) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.dispatch();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, this.opts.maxBatchWaitMs - waited);
    }
  }

  /** How many queued texts the next dispatch takes, and whether the budget (not the queue) stopped it. */
  private plan(): { count: number; full: boolean } {
    const first = this.queue[0]!.request;
    let longest = 0;
    for (let n = 0; n < this.queue.length; n++) {
      const item = this.queue[n]!;
      if (!this.opts.batching) {
        if (item.request !== first) return { count: n, full: true };
        continue;
      }
      const padded = Math.max(longest, item.tokens);
      if (n > 0 && (n + 1) * padded > this.opts.maxBatchTokens) return { count: n, full: true };
      longest = padded;
    }
    return { count: this.queue.length, full: false };
  }

  private dispatch(): void {
    const batch = this.queue.splice(0, this.plan().count);
    const started = this.now();
    for (const item of batch) item.request.startedAt ??= started;
    this.inflightTexts += batch.length;
    this.running = this.opts
      .run(batch.map((item) => item.text))
      .then((results) => {
        if (results.length !== batch.length)
          throw new Error(`embedding runner returned ${results.length} results for ${batch.length} texts`);
        batch.forEach((item, k) => this.deliver(item, results[k]!));
      })
      .catch((err: unknown) => {
        for (const item of batch) this.fail(item.request, err);
      })
      .finally(() => {
        this.inflightTexts -= batch.length;
        this.running = null;
        this.schedule();
      });
  }

  private deliver(item: Item<R>, result: R): void {
    const request = item.request;
    if (request.settled) return;
    request.results[item.index] = result;
    if (--request.remaining > 0) return;
    request.settled = true;
    const done = this.now();
    const startedAt = request.startedAt ?? done;
    request.resolve({
      results: request.results,
      queueMs: startedAt - request.enqueuedAt,
      runMs: done - startedAt,
    });
  }
}

/**
 * Groups texts into session runs under an exact token budget: sorted by length first, so each
 * run pads to texts of similar length. Returns indices into `lengths`, shortest runs first.
 *
 * @example packByLength([5, 300, 7], 600) → [[0, 2], [1]]
 */
export function packByLength(lengths: number[], maxBatchTokens: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const runs: number[][] = [];
  let current: number[] = [];
  for (const i of order) {
    // Sorted ascending, so the text being added is the longest: it sets the padded length.
    if (current.length > 0 && (current.length + 1) * lengths[i]! > maxBatchTokens) {
      runs.push(current);
      current = [];
    }
    current.push(i);
  }
  if (current.length > 0) runs.push(current);
  return runs;
}
