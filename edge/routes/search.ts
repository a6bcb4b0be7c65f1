/** POST /api/v1/search: validated here before any upstream call, then routed per router.ts. */
import { Hono } from 'hono';
import { LIMITS } from '../../shared/constants.ts';
import { SearchRequest } from '../../shared/schemas.ts';
import { readJsonBody, type AppEnv } from '../http.ts';
import { forwardRead } from '../reads.ts';

export const searchRoutes = new Hono<AppEnv>().post('/api/v1/search', async (c) => {
  const { value } = await readJsonBody(c, SearchRequest, LIMITS.maxSearchBodyBytes);
  // The node gets the normalised body (defaults filled in), never the caller's raw bytes;
  // `consistency` is the edge's routing choice, not the node's business (min_seq is: it checks).
  const { consistency, ...forwarded } = value;
  return forwardRead(c, {
    kind: 'search',
    method: 'POST',
    path: '/api/v1/search',
    body: JSON.stringify(forwarded),
    signed: false,
    ...(consistency ? { consistency } : {}),
    ...(value.min_seq ? { minSeq: value.min_seq } : {}),
    bodyWithMinSeq: (minSeq) => JSON.stringify({ ...forwarded, min_seq: minSeq }),
  });
});
