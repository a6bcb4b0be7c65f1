/** Operator endpoints (token): node registry, planned switchover, failover reports. */
import { Hono } from 'hono';
import { z } from 'zod';
import { RegisterNode, SwitchoverRequest } from '../../shared/schemas.ts';
import { toApiError } from '../coordinator/rpc-errors.ts';
import { coordinator } from '../env.ts';
import { ApiError, pathParam, readJsonBody, requireToken, type AppEnv } from '../http.ts';
import { invalidateRoutingTable } from '../routing-cache.ts';
import { invalidateStatusCache } from '../status-cache.ts';

const NodeId = RegisterNode.shape.id;
const FailoverId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9-]+$/, 'failover id looks like fo-…, so-… or el-…');

export const adminRoutes = new Hono<AppEnv>()
  .use('/api/v1/admin/*', requireToken)
  // Whatever an admin change did (or half did), the status this isolate shows next is fresh.
  .use('/api/v1/admin/*', async (c, next) => {
    try {
      await next();
    } finally {
      if (c.req.method !== 'GET') invalidateStatusCache();
    }
  })
  .use('/api/v1/failovers', requireToken)
  .use('/api/v1/failovers/*', requireToken)
  .post('/api/v1/admin/nodes', async (c) => {
    const { value } = await readJsonBody(c, RegisterNode, 16 * 1024);
    const result = await coordinator(c.env).registerNode(value);
    if (!result.ok) throw toApiError(result);
    invalidateRoutingTable();
    return c.json({ node: result.node, created: result.created }, result.created ? 201 : 200);
  })
  .delete('/api/v1/admin/nodes/:id', async (c) => {
    const id = pathParam(c, 'id', NodeId);
    const result = await coordinator(c.env).removeNode(id);
    if (!result.ok) throw toApiError(result);
    if (!result.removed) throw new ApiError(404, 'not_found', `node "${id}" is not registered`);
    invalidateRoutingTable();
    return c.json({ removed: id });
  })
  .post('/api/v1/admin/switchover', async (c) => {
    const { value } = await readJsonBody(c, SwitchoverRequest, 16 * 1024);
    const result = await coordinator(c.env).switchover(value.to);
    if (!result.ok) throw toApiError(result);
    invalidateRoutingTable();
    return c.json({ report: result.report }, result.report.outcome === 'failed' ? 502 : 200);
  })
  .get('/api/v1/failovers', async (c) => {
    const limit = Number(c.req.query('limit') ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw new ApiError(400, 'invalid_request', 'limit: expected an integer from 1 to 500', 'limit');
    return c.json({ failovers: await coordinator(c.env).listFailovers(limit) });
  })
  .get('/api/v1/failovers/:id', async (c) => {
    const id = pathParam(c, 'id', FailoverId);
    const report = await coordinator(c.env).getFailover(id);
    if (!report) throw new ApiError(404, 'not_found', `no failover "${id}"`);
    return c.json(report);
  });
