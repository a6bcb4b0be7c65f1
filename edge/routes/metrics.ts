/** GET /metrics: Prometheus text exposition (format 0.0.4) of the coordinator's view. */
import { Hono } from 'hono';
import { coordinator } from '../env.ts';
import type { AppEnv } from '../http.ts';
import { renderMetrics } from '../metrics-text.ts';

export const metricsRoutes = new Hono<AppEnv>().get('/metrics', async (c) => {
  const snapshot = await coordinator(c.env).metrics();
  return c.text(renderMetrics(snapshot), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
});
