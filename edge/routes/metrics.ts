/** GET /metrics: Prometheus text exposition (format 0.0.4) of the coordinator's view (briefly cached). */
import { Hono } from 'hono';
import type { AppEnv } from '../http.ts';
import { renderMetrics } from '../metrics-text.ts';
import { cachedMetrics } from '../status-cache.ts';

export const metricsRoutes = new Hono<AppEnv>().get('/metrics', async (c) => {
  const snapshot = await cachedMetrics(c.env);
  return c.text(renderMetrics(snapshot), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
});
