/**
 * The edge's Hono app: request id + access log, the search key check, then the chained sub-apps
 * of routes/, then one error handler so that every failure, expected or not, leaves as
 * `{"error": {"code","message"}}` (the OpenAI-compatible /v1 routes answer in OpenAI's shape).
 */
import { Hono } from 'hono';
import { HEADERS } from '../shared/constants.ts';
import { errorBody } from '../shared/errors.ts';
import { ApiError, errorResponse, requireSearchKey, type AppEnv } from './http.ts';
import { log, logs, setLogLevel } from './log.ts';
import { rateLimit } from './rate-limit.ts';
import { adminRoutes } from './routes/admin.ts';
import { documentRoutes } from './routes/documents.ts';
import { embeddingsRoutes } from './routes/embeddings.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { openapiRoutes } from './routes/openapi.ts';
import { searchRoutes } from './routes/search.ts';
import { statusPageRoutes } from './routes/status-page.tsx';
import { statusRoutes } from './routes/status.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const app = new Hono<AppEnv>()
  .use('*', async (c, next) => {
    setLogLevel(c.env.LOG_LEVEL);
    const given = c.req.header(HEADERS.requestId);
    const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    c.set('requestId', requestId);
    const started = Date.now();
    await next();
    c.res.headers.set(HEADERS.requestId, requestId);
    if (!logs('info')) return;
    const epoch = c.res.headers.get(HEADERS.epoch);
    log('info', 'worker', 'http.request', {
      request_id: requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Date.now() - started,
      ...(epoch ? { epoch: Number(epoch) } : {}),
      ...(c.res.headers.get(HEADERS.servedBy) ? { served_by: c.res.headers.get(HEADERS.servedBy) } : {}),
    });
  })
  // Before the body is read: no key, no work (and no hint whether the body would have passed).
  .use('/api/v1/search', requireSearchKey)
  // Then the per-client limit (./rate-limit.ts), still before the body is read.
  .use('/api/v1/search', rateLimit)
  .use('/v1/embeddings', rateLimit)
  .route('/', searchRoutes)
  .route('/', embeddingsRoutes)
  .route('/', documentRoutes)
  .route('/', adminRoutes)
  .route('/', statusRoutes)
  .route('/', metricsRoutes)
  .route('/', openapiRoutes)
  .route('/', statusPageRoutes)
  .notFound((c) =>
    c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}; see GET /openapi.json`), 404),
  )
  .onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(error);
    log('error', 'worker', 'http.unhandled_error', {
      request_id: c.get('requestId'),
      error: String(error),
      stack: error instanceof Error ? error.stack : undefined,
    });
    return c.json(
      errorBody(
        'internal_error',
        `unexpected error (request id ${c.get('requestId') ?? 'unknown'}); it has been logged`,
      ),
      500,
    );
  });
