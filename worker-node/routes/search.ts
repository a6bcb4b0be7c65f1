/** POST /api/v1/search: served in any role, by any node whose data is open. */
import { Hono } from 'hono';
import { HEADERS, LIMITS } from '../../shared/constants.ts';
import { ApiError, readJson } from '../../shared/http-body.ts';
import { SearchRequest } from '../../shared/schemas.ts';
import type { SearchNode } from '../search-node.ts';
import type { NodeEnv } from './http.ts';

export function searchRoutes(node: SearchNode) {
  return new Hono<NodeEnv>().post('/api/v1/search', async (c) => {
    const req = await readJson(c.req.raw, SearchRequest, LIMITS.maxSearchBodyBytes);
    if (node.health().status === 'stopping')
      throw new ApiError(503, 'stopping', 'this node is shutting down; retry on another node');
    const started = performance.now();
    const { results, timings } = await node.search(req);
    for (const [stage, ms] of Object.entries(timings))
      node.metrics.stageSeconds.observe({ stage }, ms / 1000);
    const role = node.roles.current;
    c.header(HEADERS.servedBy, node.config.NODE_ID);
    c.header(HEADERS.epoch, String(role.epoch));
    return c.json({
      results,
      took_ms: Math.round((performance.now() - started) * 100) / 100,
      served_by: { node: node.config.NODE_ID, role: role.role, epoch: role.epoch },
    });
  });
}
