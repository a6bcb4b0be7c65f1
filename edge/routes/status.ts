/**
 * GET /health (200 only while a healthy master serves) and GET /api/v1/status (section 3 shape,
 * at most STATUS_CACHE_MS old: ../status-cache.ts):
 * node URLs and other internals only for the admin token, the public view otherwise.
 */
import { Hono } from 'hono';
import { type EdgeHealth, publicStatus } from '../../shared/edge-api.ts';
import { type AppEnv, hasAdminToken } from '../http.ts';
import { getRoutingTable } from '../routing-cache.ts';
import { cachedStatus } from '../status-cache.ts';

export const statusRoutes = new Hono<AppEnv>()
  .get('/health', async (c) => {
    const table = await getRoutingTable(c.env);
    const master = table.nodes.find((n) => n.id === table.master);
    if (master && (master.state === 'up' || master.state === 'overloaded')) {
      const body: EdgeHealth = { status: 'healthy', role: 'master', master: master.id, epoch: table.epoch };
      return c.json(body, 200);
    }
    const message = !table.master
      ? table.nodes.length === 0
        ? 'no search node is registered (POST /api/v1/admin/nodes)'
        : 'no master elected yet: no node is up and ready'
      : `master ${table.master} is ${master?.state ?? 'not registered'}`;
    const body: EdgeHealth = {
      status: 'unhealthy',
      master: table.master,
      epoch: table.epoch,
      error: { code: 'no_healthy_master', message },
    };
    return c.json(body, 503);
  })
  .get('/api/v1/status', async (c) => {
    const status = await cachedStatus(c.env);
    return c.json((await hasAdminToken(c)) ? status : publicStatus(status));
  });
