/**
 * A bounded, steady search load against one URL that records every request's outcome. Used by
 * the demo's failover drill and the CLI drill; loops stop by themselves at `stop()` or after
 * `maxDurationMs`, whichever comes first (loopback only).
 */
export interface LoadSample {
  at: number;
  ok: boolean;
  status: number;
  latencyMs: number;
  servedBy: string | null;
  epoch: number | null;
  error?: string;
}

export interface SearchLoad {
  samples: LoadSample[];
  stop(): Promise<LoadSample[]>;
}

export function startSearchLoad(opts: { url: string; queries: string[]; ratePerSec: number; maxDurationMs?: number; timeoutMs?: number }): SearchLoad {
  const samples: LoadSample[] = [];
  const inflight = new Set<Promise<void>>();
  const interval = 1000 / opts.ratePerSec;
  const deadline = Date.now() + (opts.maxDurationMs ?? 120_000);
  let i = 0;
  let running = true;
  const fire = () => {
    const query = opts.queries[i++ % opts.queries.length]!;
    const at = Date.now();
    const p = fetch(`${opts.url}/api/v1/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, top_k: 5 }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    })
      .then(async (res) => {
        await res.arrayBuffer();
        const epoch = res.headers.get('x-gte-epoch');
        samples.push({ at, ok: res.status === 200, status: res.status, latencyMs: Date.now() - at, servedBy: res.headers.get('x-served-by'), epoch: epoch ? Number(epoch) : null });
      })
      .catch((err: Error) => {
        samples.push({ at, ok: false, status: 0, latencyMs: Date.now() - at, servedBy: null, epoch: null, error: err.message });
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };
  const timer = setInterval(() => {
    if (!running || Date.now() > deadline) return;
    fire();
  }, interval);
  return {
    samples,
    async stop() {
      running = false;
      clearInterval(timer);
      await Promise.all(inflight);
      return samples.sort((a, b) => a.at - b.at);
    },
  };
}
