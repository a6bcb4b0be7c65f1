/**
 * POST /api/v1/search: served in any role, by any node whose data is open.
 *
 * `min_seq` (read-your-writes): a node that has not applied that log position yet answers
 * 409 `behind` rather than a stale result; the edge then tries another node (edge/reads.ts).
 * The master, which applies its own writes moments after acknowledging them, first waits up to
 * MIN_SEQ_WAIT_MS for it; a standby waits as long as the x-gte-min-seq-wait-ms header asks
 * (the edge's second ask, when no node had the position), never longer. Every answer says the
 * position it was served at (served_by.applied_seq and the x-gte-applied-seq header).
 */
import { Hono } from 'hono';
import { HEADERS, LIMITS, MIN_SEQ_WAIT_MS } from '../../shared/constants.ts';
import { ApiError } from '../../shared/http-body.ts';
import { SearchRequest } from '../../shared/schemas.ts';
import { compareSeq } from '../../shared/stream-id.ts';
import type { SearchNode } from '../search-node.ts';
import { type NodeEnv, readNodeJson } from './http.ts';

async function reached(node: SearchNode, minSeq: string, waitMs: number): Promise<boolean> {
  const until = Date.now() + waitMs;
  for (;;) {
    if (compareSeq(node.replica.appliedSeq, minSeq) >= 0) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The wait a caller asked for, within [0, MIN_SEQ_WAIT_MS]; anything unreadable is no wait. */
export function askedWaitMs(header: string | undefined): number {
  const ms = Number(header);
  return Number.isFinite(ms) && ms > 0 ? Math.min(Math.floor(ms), MIN_SEQ_WAIT_MS) : 0;
}

export function searchRoutes(node: SearchNode) {
  return new Hono<NodeEnv>().post('/api/v1/search', async (c) => {
    const req = await readNodeJson(c, SearchRequest, LIMITS.maxSearchBodyBytes);
    if (node.stopping)
      throw new ApiError(503, 'stopping', 'this node is shutting down; retry on another node');
    if (req.min_seq !== undefined) {
      const wait =
        node.roles.current.role === 'master'
          ? MIN_SEQ_WAIT_MS
          : askedWaitMs(c.req.header(HEADERS.minSeqWait));
      if (!(await reached(node, req.min_seq, wait)))
        throw new ApiError(
          409,
          'behind',
          `this node has applied ${node.replica.appliedSeq}, short of min_seq ${req.min_seq}; another node may serve`,
          'min_seq',
        );
    }
    const started = performance.now();
    const { results, timings } = await node.search(req);
    for (const [stage, ms] of Object.entries(timings))
      node.metrics.stageSeconds.observe({ stage }, ms / 1000);
    const role = node.roles.current;
    const appliedSeq = node.replica.appliedSeq;
    c.header(HEADERS.servedBy, node.config.NODE_ID);
    c.header(HEADERS.epoch, String(role.epoch));
    c.header(HEADERS.appliedSeq, appliedSeq);
    return c.json({
      results,
      took_ms: Math.round((performance.now() - started) * 100) / 100,
      served_by: { node: node.config.NODE_ID, role: role.role, epoch: role.epoch, applied_seq: appliedSeq },
    });
  });
}
