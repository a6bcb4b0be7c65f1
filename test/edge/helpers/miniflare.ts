/**
 * The edge in real workerd (Miniflare), for tests. One implementation lives in
 * scripts/cluster/edge.ts, because `npm run cluster` starts the edge the same way; this file is the
 * stable import path for tests:
 *
 *   import { startEdge, waitFor } from '../edge/helpers/miniflare.ts';
 *   const edge = await startEdge({ vars: { PROBE_INTERVAL_MS: '100' }, clusterSecret });
 *   await edge.fetch('/api/v1/search', { method: 'POST', json: { query: 'q' } });
 *   await edge.admin('/api/v1/admin/nodes', { method: 'POST', json: { id, url } });
 *   await edge.scheduled();   // cron handler
 *   edge.logs();              // parsed JSON log lines
 *   await edge.stop();
 */
export * from '../../../scripts/cluster/edge.ts';
export { waitFor } from '../../../scripts/cluster/wait.ts';
