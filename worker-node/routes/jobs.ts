/** GET /api/v1/jobs/:id: an ingest job's state and progress (signed; job state lives in Redis). */
import { Hono } from 'hono';
import { ApiError } from '../../shared/http-body.ts';
import type { SearchNode } from '../search-node.ts';
import type { NodeEnv, Signed } from './http.ts';

const STATES = ['waiting', 'active', 'completed', 'failed', 'delayed'];

/** BullMQ's job states as the API names them. */
export function jobState(state: string): string {
  if (STATES.includes(state)) return state;
  return state === 'prioritized' || state === 'waiting-children' ? 'waiting' : 'unknown';
}

export function jobRoutes(node: SearchNode, signed: Signed) {
  return new Hono<NodeEnv>().get('/api/v1/jobs/:id', signed, async (c) => {
    if (!node.ingest.connected)
      throw new ApiError(503, 'redis_unavailable', 'Redis is unreachable; job state lives there');
    const id = c.req.param('id') ?? '';
    const job = await node.ingest.getJob(id);
    if (!job)
      throw new ApiError(
        404,
        'not_found',
        `no job ${JSON.stringify(id)} (finished jobs are kept for an hour)`,
      );
    return c.json({
      job_id: String(job.id),
      state: jobState(await job.getState()),
      progress: typeof job.progress === 'number' ? job.progress : 0,
      accepted: job.data.ops.length,
      seq: job.returnvalue?.seq ?? null,
      error: job.failedReason ?? null,
    });
  });
}
