/** POST /api/v1/search: validated here before any upstream call, then routed per router.ts. */
import { Hono } from 'hono';
import { LIMITS } from '../../shared/constants.ts';
import { SearchRequest } from '../../shared/schemas.ts';
import { readJsonBody, type AppEnv } from '../http.ts';
import { forwardRead } from '../upstream.ts';

export const searchRoutes = new Hono<AppEnv>().post('/api/v1/search', async (c) => {
  const { value } = await readJsonBody(c, SearchRequest, LIMITS.maxSearchBodyBytes);
  // The node gets the normalised body (defaults filled in), never the caller's raw bytes.
  return forwardRead(c, {
    method: 'POST',
    path: '/api/v1/search',
    body: JSON.stringify(value),
    signed: false,
  });
});
