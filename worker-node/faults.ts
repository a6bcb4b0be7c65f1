/**
 * Fault injection for chaos tests: a signed control call makes this node add latency, fail a
 * share of requests with 503, report overload, hang, or kill a supervised worker thread (the
 * embedder's ONNX session or the FAISS index: /health shows it restarting). Only present when
 * FAULT_INJECTION=1, and config.ts refuses that setting in production.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { ApiError } from '../shared/http-body.ts';
import { type NodeEnv, type Signed, signedJson } from './routes/http.ts';

export const FaultSettings = z
  .object({
    latency_ms: z.number().int().min(0).max(60_000).optional(),
    fail_rate: z.number().min(0).max(1).optional(),
    /** Paths `fail_rate` applies to (exact, or a prefix ending in `/`); absent = every path, /health included. */
    fail_paths: z.array(z.string().min(1).max(256)).max(32).optional(),
    overload: z.boolean().optional(),
    hang: z.boolean().optional(),
    /** Kills that worker once; its supervisor restarts it. */
    crash_worker: z.enum(['embedder', 'index']).optional(),
    clear: z.boolean().optional(),
  })
  .strict();
export type FaultSettings = z.infer<typeof FaultSettings>;

export class FaultInjector {
  latencyMs = 0;
  failRate = 0;
  failPaths: string[] | null = null;
  hanging = false;

  constructor(
    private readonly setOverload: (on: boolean) => void,
    private readonly crashWorker: (part: 'embedder' | 'index') => void = () => undefined,
  ) {}

  /** Whether this request to `path` fails (fail_rate, limited to fail_paths when set). */
  failing(path: string): boolean {
    if (this.failPaths && !this.failPaths.some((p) => path === p || (p.endsWith('/') && path.startsWith(p))))
      return false;
    return this.failRate > 0 && Math.random() < this.failRate;
  }

  /** Runs before every /api request. */
  async before(path: string): Promise<void> {
    if (path === '/api/v1/faults') return;
    if (this.hanging) await new Promise(() => undefined);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (this.failing(path)) throw new ApiError(503, 'fault_injected', 'injected failure (FAULT_INJECTION)');
  }

  apply(s: FaultSettings): void {
    if (s.clear) {
      this.latencyMs = 0;
      this.failRate = 0;
      this.failPaths = null;
      this.hanging = false;
      this.setOverload(false);
    }
    if (s.latency_ms !== undefined) this.latencyMs = s.latency_ms;
    if (s.fail_rate !== undefined) this.failRate = s.fail_rate;
    if (s.fail_paths !== undefined) this.failPaths = s.fail_paths;
    if (s.hang !== undefined) this.hanging = s.hang;
    if (s.overload !== undefined) this.setOverload(s.overload);
    if (s.crash_worker !== undefined) this.crashWorker(s.crash_worker);
  }

  routes(signed: Signed) {
    return new Hono<NodeEnv>().post('/api/v1/faults', signed, (c) => {
      this.apply(signedJson(c, FaultSettings));
      return c.json({
        latency_ms: this.latencyMs,
        fail_rate: this.failRate,
        fail_paths: this.failPaths,
        hang: this.hanging,
      });
    });
  }
}
