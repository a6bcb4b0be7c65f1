/**
 * The load generator: closed-loop search clients over keep-alive HTTP (node:http, lighter than
 * fetch on a 2-core machine, where the client competes with the node for CPU), and a /health
 * poller on a thread of its own so that its timings are not delayed by the load's event loop.
 */
import { Agent, request } from 'node:http';
import { Worker } from 'node:worker_threads';

export interface HttpAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the suites read the search answer's fields directly
  body: any;
  ms: number;
}

/** One JSON POST over `agent`; rejects on a network error or after `timeoutMs`. */
export function postJson(agent: Agent, url: string, body: unknown, timeoutMs = 10_000): Promise<HttpAnswer> {
  const payload = JSON.stringify(body);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, ms: performance.now() - started });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export interface LoadResult {
  /** Client-observed latency of each answered (200) search, ms. */
  latenciesMs: number[];
  /** The node's own took_ms of each answered search. */
  tookMs: number[];
  /** Non-200 answers and network errors, by status ("error" for no answer). */
  failures: Record<string, number>;
  durationMs: number;
  /** Answers per served_by.node. */
  servedBy: Record<string, number>;
}

export interface LoadOptions {
  /** The search endpoint, e.g. http://127.0.0.1:8081/api/v1/search */
  url: string;
  concurrency: number;
  durationMs: number;
  queries: readonly string[];
  topK?: number;
  /** The search mode asked for (absent: the node's default, hybrid). */
  mode?: 'hybrid' | 'vector' | 'keyword';
}

/**
 * `concurrency` clients, each sending the next query as soon as its previous one was answered,
 * for `durationMs`. Every client keeps its own connection (maxSockets = concurrency).
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const result: LoadResult = { latenciesMs: [], tookMs: [], failures: {}, durationMs: 0, servedBy: {} };
  let next = 0;
  const started = performance.now();
  const deadline = started + opts.durationMs;
  const client = async () => {
    while (performance.now() < deadline) {
      const query = opts.queries[next++ % opts.queries.length]!;
      try {
        const a = await postJson(agent, opts.url, {
          query,
          top_k: opts.topK ?? 5,
          ...(opts.mode ? { mode: opts.mode } : {}),
        });
        if (a.status === 200) {
          result.latenciesMs.push(a.ms);
          if (typeof a.body?.took_ms === 'number') result.tookMs.push(a.body.took_ms);
          const node = a.body?.served_by?.node ?? '?';
          result.servedBy[node] = (result.servedBy[node] ?? 0) + 1;
        } else result.failures[a.status] = (result.failures[a.status] ?? 0) + 1;
      } catch {
        result.failures.error = (result.failures.error ?? 0) + 1;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, client));
  result.durationMs = performance.now() - started;
  agent.destroy();
  return result;
}

/** Sends `count` searches one after another (warm-up: model, index pages, connections). */
export async function warmUp(url: string, queries: readonly string[], count: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  let i = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (i < count)
        await postJson(agent, url, { query: queries[i++ % queries.length], top_k: 5 }).catch(() => undefined);
    }),
  );
  agent.destroy();
}

export interface HealthPoller {
  /**
   * Stops polling; resolves with the latency of every poll (ms), how many were not 200, and the
   * event-loop lag each answer reported (ms).
   */
  stop(): Promise<{ latenciesMs: number[]; failures: number; loopLagMs: number[] }>;
}

/** Polls `url` (GET) every `intervalMs` from a worker thread until stopped. */
export function pollHealth(url: string, intervalMs = 50): HealthPoller {
  const worker = new Worker(new URL('./health-poller.mjs', import.meta.url), {
    workerData: { url, intervalMs },
  });
  return {
    stop: () =>
      new Promise((resolve, reject) => {
        worker.once('message', (m: { latenciesMs: number[]; failures: number; loopLagMs: number[] }) => {
          void worker.terminate();
          resolve(m);
        });
        worker.once('error', reject);
        worker.postMessage('stop');
      }),
  };
}
