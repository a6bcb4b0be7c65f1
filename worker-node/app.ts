/**
 * The search node's HTTP API (ARCHITECTURE.md section 4), a thin Hono skin over SearchNode.
 *
 * Public: /health, /api/v1/info, /metrics, /api/v1/search. Signed (HMAC, shared/signing.ts):
 * documents, jobs, control calls (activate / degrade / standby), diagnostics, snapshot.
 * Every error is `{"error": {"code", "message", "field"?}}`; bad input is a 4xx, never a crash.
 */
import { Hono, type Context } from 'hono';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { HEADERS, LIMITS } from '../shared/constants.ts';
import { errorBody } from '../shared/errors.ts';
import { ApiError, parseJsonBody, readBodyBytes, readJson } from '../shared/http-body.ts';
import { DocumentId, EpochBody, SearchRequest, StandbyBody, UpsertRequest } from '../shared/schemas.ts';
import { NonceCache, verifyRequest } from '../shared/signing.ts';
import { QueueFullError, EmbedderUnavailableError } from './embedder/index.ts';
import { RedisUnavailableError } from './ingest/ingest-queue.ts';
import { writeAllowed } from './roles.ts';
import { ControlError, type SearchNode } from './search-node.ts';
import type { FaultInjector } from './faults.ts';

type Env = { Variables: { rawBody: Uint8Array } };

export function createApp(node: SearchNode, faults?: FaultInjector) {
  const nonces = new NonceCache();
  const app = new Hono<Env>();
  const m = node.metrics;

  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(err.toBody(), err.status);
    if (err instanceof ControlError) return c.json(errorBody(err.code, err.message), err.status);
    if (err instanceof QueueFullError) return c.json(errorBody('overloaded', err.message), 429);
    if (err instanceof RedisUnavailableError) return c.json(errorBody('redis_unavailable', err.message), 503);
    if (err instanceof EmbedderUnavailableError)
      return c.json(errorBody('embedder_unavailable', err.message), 503);
    node.noteError('http.error', `${c.req.method} ${c.req.path}: ${(err as Error).stack ?? err}`);
    node.logger.error('http.error', { path: c.req.path, error: (err as Error).message });
    return c.json(errorBody('internal', 'internal error; see the node log'), 500);
  });
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));

  // Request accounting for everything but /health and /metrics (they must stay cheap).
  app.use('/api/*', async (c, next) => {
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
  });

  /** Signed routes: HMAC over method, path, timestamp, nonce and body (replay-proof). */
  const signed = async (c: Context<Env>, next: () => Promise<void>) => {
    const body = await readBodyBytes(c.req.raw, LIMITS.maxBodyBytes);
    const v = await verifyRequest(
      node.config.CLUSTER_SECRET,
      c.req.method,
      c.req.path,
      c.req.raw.headers,
      body,
      nonces,
    );
    if (!v.ok) throw new ApiError(401, v.code, v.message);
    c.set('rawBody', body);
    await next();
  };
  const signedJson = <S extends z.ZodType>(c: Context<Env>, schema: S) =>
    parseJsonBody(c.req.header('content-type') ?? null, c.get('rawBody'), schema);

  app.get('/health', (c) => {
    if (faults?.hanging) return new Promise<Response>(() => undefined);
    if (faults?.failing('/health')) return c.json(errorBody('fault_injected', 'injected failure'), 503);
    const h = node.health();
    return c.json(h, h.ready ? 200 : 503);
  });

  app.get('/api/v1/info', (c) => c.json(node.info()));

  app.get('/metrics', async (c) => {
    node.refreshGauges();
    const counts = await node.ingest.counts().catch(() => null);
    if (counts) for (const [state, n] of Object.entries(counts)) m.ingestJobs.set({ state }, n);
    return c.body(await m.registry.metrics(), 200, { 'content-type': m.registry.contentType });
  });

  app.post('/api/v1/search', async (c) => {
    const req = await readJson(c.req.raw, SearchRequest, LIMITS.maxSearchBodyBytes);
    if (node.health().status === 'stopping')
      throw new ApiError(503, 'stopping', 'this node is shutting down; retry on another node');
    const started = performance.now();
    const { results, timings } = await node.search(req);
    for (const [stage, ms] of Object.entries(timings)) m.stageSeconds.observe({ stage }, ms / 1000);
    const role = node.role;
    c.header(HEADERS.servedBy, node.config.NODE_ID);
    c.header(HEADERS.epoch, String(role.epoch));
    return c.json({
      results,
      took_ms: Math.round((performance.now() - started) * 100) / 100,
      served_by: { node: node.config.NODE_ID, role: role.role, epoch: role.epoch },
    });
  });

  // ---- writes: master only, stamped with the epoch ----
  const checkWrite = (c: Context<Env>) => {
    const header = c.req.header(HEADERS.epoch);
    const epoch = header !== undefined && /^\d+$/.test(header) ? Number(header) : null;
    const allowed = writeAllowed(node.role, epoch);
    if (!allowed.ok) throw new ApiError(409, allowed.code, allowed.message);
  };

  app.post('/api/v1/documents', signed, async (c) => {
    const req = signedJson(c, UpsertRequest);
    checkWrite(c);
    const seen = new Set<string>();
    for (const d of req.documents) {
      if (seen.has(d.id))
        throw new ApiError(
          400,
          'duplicate_id',
          `documents: id ${JSON.stringify(d.id)} appears twice in one request`,
          'documents',
        );
      seen.add(d.id);
    }
    const out = await node.write(
      req.documents.map((d) => ({
        op: 'upsert' as const,
        id: d.id,
        text: d.text,
        metadata: d.metadata ?? {},
      })),
      req.wait,
    );
    return c.json(out, out.status === 'queued' ? 202 : 200);
  });

  app.delete('/api/v1/documents/:id', signed, async (c) => {
    const id = DocumentId.safeParse(c.req.param('id'));
    if (!id.success) throw new ApiError(400, 'invalid_request', `id: ${id.error.issues[0]?.message}`, 'id');
    checkWrite(c);
    const wait = z.enum(['none', 'applied', 'replicated']).safeParse(c.req.query('wait') ?? 'none');
    if (!wait.success)
      throw new ApiError(400, 'invalid_request', 'wait: must be none, applied or replicated', 'wait');
    const out = await node.write([{ op: 'delete', id: id.data }], wait.data);
    return c.json(out, out.status === 'queued' ? 202 : 200);
  });

  /** While a resync has the engine closed there is no data to read: 503, never a 500. */
  const checkData = () => {
    if (node.resynchronising)
      throw new ApiError(503, 'resynchronising', "this node is copying a peer's data; retry on another node");
  };

  app.get('/api/v1/documents/:id', signed, (c) => {
    checkData();
    const id = c.req.param('id') ?? '';
    const doc = node.engine.store.getDocument(id);
    if (!doc) throw new ApiError(404, 'not_found', `no document with id ${JSON.stringify(id)}`);
    return c.json({
      id: doc.id,
      text: doc.text,
      metadata: doc.metadata,
      version: doc.version,
      updated_seq: doc.updated_seq,
    });
  });

  app.get('/api/v1/jobs/:id', signed, async (c) => {
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
    const state = await job.getState();
    return c.json({
      job_id: String(job.id),
      state: ['waiting', 'active', 'completed', 'failed', 'delayed'].includes(state)
        ? state
        : state === 'prioritized' || state === 'waiting-children'
          ? 'waiting'
          : 'unknown',
      progress: typeof job.progress === 'number' ? job.progress : 0,
      accepted: job.data.ops.length,
      seq: job.returnvalue?.seq ?? null,
      error: job.failedReason ?? null,
    });
  });

  // ---- control calls from the coordinator ----
  app.post('/api/v1/activate', signed, async (c) =>
    c.json(await node.activate(signedJson(c, EpochBody).epoch)),
  );
  app.post('/api/v1/degrade', signed, async (c) =>
    c.json(await node.degrade(signedJson(c, EpochBody).epoch)),
  );
  app.post('/api/v1/standby', signed, async (c) => {
    const body = signedJson(c, StandbyBody);
    return c.json(await node.standby(body.epoch, body.master));
  });
  app.get('/api/v1/diagnostics', signed, (c) => c.json(node.diagnostics()));

  /** A consistent copy of this node's SQLite database, for a peer that must resynchronise. */
  app.get('/api/v1/snapshot', signed, async (_c) => {
    checkData();
    const dir = mkdtempSync(join(tmpdir(), 'gte-snap-'));
    const file = join(dir, 'metadata.sqlite');
    await node.engine.store.backupTo(file);
    const stream = createReadStream(file);
    stream.on('close', () => rmSync(dir, { recursive: true, force: true }));
    return new Response(Readable.toWeb(stream) as ReadableStream, {
      headers: {
        'content-type': 'application/vnd.sqlite3',
        'content-length': String(statSync(file).size),
        'x-gte-applied-seq': node.engine.appliedSeq,
      },
    });
  });

  if (faults) app.route('/', faults.routes(signed));

  return app;
}
