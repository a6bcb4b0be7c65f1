/**
 * The search node's HTTP API (ARCHITECTURE.md section 4): request accounting and the request's
 * logger, then the chained sub-apps of routes/, then one error handler.
 *
 * Public: /health, /api/v1/info, /metrics, /api/v1/search, /api/v1/embed. Signed (HMAC,
 * shared/signing.ts): documents, jobs, control calls (activate / degrade / standby), diagnostics,
 * snapshot.
 * Every error is `{"error": {"code", "message", "field"?}}`; bad input is a 4xx, never a crash.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { HEADERS } from '../shared/constants.ts';
import { errorBody } from '../shared/errors.ts';
import { ApiError } from '../shared/http-body.ts';
import { NonceCache } from '../shared/signing.ts';
import type { FaultInjector } from './faults.ts';
import { controlRoutes } from './routes/control.ts';
import { documentRoutes } from './routes/documents.ts';
import { embedRoutes } from './routes/embed.ts';
import { healthRoutes } from './routes/health.ts';
import { type NodeEnv, signedBy } from './routes/http.ts';
import { jobRoutes } from './routes/jobs.ts';
import { searchRoutes } from './routes/search.ts';
import { snapshotRoutes } from './routes/snapshot.ts';
import type { SearchNode } from './search-node.ts';

/** The same rule as the edge (edge/app.ts): anything else is not logged as a request id. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * For everything under /api (not /health and /metrics: they must stay cheap): the request's
 * logger (with the id the edge sent), fault injection, in-flight count, request metrics.
 */
function apiRequests(node: SearchNode, faults?: FaultInjector): MiddlewareHandler<NodeEnv> {
  const m = node.metrics;
  return async (c, next) => {
    const requestId = c.req.header(HEADERS.requestId);
    c.set(
      'log',
      requestId && REQUEST_ID.test(requestId) ? node.logger.child({ request_id: requestId }) : node.logger,
    );
    const started = performance.now();
    node.load.inflight++;
    try {
      if (faults) await faults.before(c.req.path);
      await next();
    } finally {
      node.load.inflight--;
      const route = c.req.routePath;
      m.requests.inc({ route, status: String(c.res.status) });
      m.requestSeconds.observe({ route }, (performance.now() - started) / 1000);
    }
  };
}

/**
 * `signedSince`: when the process started listening (signed calls from before it are refused,
 * routes/http.ts says why); defaults to now.
 */
export function createApp(node: SearchNode, faults?: FaultInjector, signedSince = Date.now()) {
  const signed = signedBy({
    secret: node.config.CLUSTER_SECRET,
    nonces: new NonceCache(),
    nodeId: node.config.NODE_ID,
    signedSince,
  });
  const app = new Hono<NodeEnv>()
    .use('/api/*', apiRequests(node, faults))
    .route('/', healthRoutes(node, faults))
    .route('/', searchRoutes(node))
    .route('/', embedRoutes(node))
    .route('/', documentRoutes(node, signed))
    .route('/', jobRoutes(node, signed))
    .route('/', controlRoutes(node, signed))
    .route('/', snapshotRoutes(node, signed));
  if (faults) app.route('/', faults.routes(signed));
  return app
    .notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404))
    .onError((err, c) => {
      if (err instanceof ApiError) return c.json(err.toBody(), err.status);
      const log = c.get('log') ?? node.logger;
      node.errors.note('http.error', `${c.req.method} ${c.req.path}: ${err.stack ?? err}`);
      log.error('http.error', { path: c.req.path, error: err.message });
      return c.json(errorBody('internal', 'internal error; see the node log'), 500);
    });
}
