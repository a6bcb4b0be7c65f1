/**
 * GET /health (the coordinator's probe: constant time, 200 only when ready), GET /api/v1/info and
 * GET /metrics. Public: they say nothing a caller could use against the node.
 */
import { Hono } from 'hono';
import { errorBody } from '../../shared/errors.ts';
import type { FaultInjector } from '../faults.ts';
import type { SearchNode } from '../search-node.ts';
import type { NodeEnv } from './http.ts';

export function healthRoutes(node: SearchNode, faults?: FaultInjector) {
  const m = node.metrics;
  return new Hono<NodeEnv>()
    .get('/health', (c) => {
      if (faults?.hanging) return new Promise<Response>(() => undefined);
      if (faults?.failing('/health')) return c.json(errorBody('fault_injected', 'injected failure'), 503);
      const h = node.health();
      return c.json(h, h.ready ? 200 : 503);
    })
    .get('/api/v1/info', (c) => c.json(node.info()))
    .get('/metrics', async (c) => {
      node.refreshGauges();
      const counts = await node.ingest.counts().catch(() => null);
      if (counts) for (const [state, n] of Object.entries(counts)) m.ingestJobs.set({ state }, n);
      return c.body(await m.registry.metrics(), 200, { 'content-type': m.registry.contentType });
    });
}
