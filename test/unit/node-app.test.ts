/**
 * The search node's HTTP app (worker-node/app.ts) driven with app.request(): a real SearchNode
 * wired from in-memory fakes of the embedder, the engine, the applier, the change log and the
 * ingest queue, so the routes, the role control, the write path and the resync run for real
 * without Redis, FAISS or ONNX.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { signRequest } from '../../shared/signing.ts';
import { VERSION } from '../../shared/version.ts';
import { createApp } from '../../worker-node/app.ts';
import { loadConfig } from '../../worker-node/config.ts';
import { RecentErrors } from '../../worker-node/health.ts';
import { MIN_SEQ_WAIT_MS } from '../../shared/constants.ts';
import { askedWaitMs } from '../../worker-node/routes/search.ts';
import type {
  FinalFailureHandler,
  IngestJobData,
  IngestJobResult,
  IngestProcessor,
} from '../../worker-node/ingest/ingest-queue.ts';
import type { NodeLogger } from '../../worker-node/log.ts';
import type { ApplyEntry, StoredDoc } from '../../worker-node/metadata/store.ts';
import type { ChangeLogPort, EmbedderPort, IngestQueuePort, ReplicaEngine } from '../../worker-node/parts.ts';
import { StaleEpochError } from '../../worker-node/replication/change-log.ts';
import { SearchNode } from '../../worker-node/search-node.ts';
import { createNodeMetrics } from '../../worker-node/telemetry/metrics.ts';

const SECRET = 'unit-test-cluster-secret-0123456789';

function fakeEngine(docs: Map<string, StoredDoc>, fail?: () => boolean): ReplicaEngine {
  const state = new Map<string, string>();
  let appliedSeq = '0-0';
  return {
    get appliedSeq() {
      return appliedSeq;
    },
    get size() {
      return docs.size;
    },
    indexSize: 0,
    factory: 'Flat',
    health: () => ({ state: 'ok', restarts: 0, last_error: null }),
    async apply(entries: readonly ApplyEntry[]) {
      for (const e of entries) {
        if (e.op === 'delete') docs.delete(e.id);
        else docs.set(e.id, { id: e.id, text: e.text, metadata: e.metadata, version: 1, updated_seq: e.seq });
        appliedSeq = e.seq;
      }
    },
    async search(_vector: Float32Array, k: number) {
      if (fail?.()) throw new Error('engine exploded');
      const hits = [...docs.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).slice(0, k);
      return {
        hits: hits.map((doc, i) => ({ doc, score: 1 - i / 10, passage: { start: 0, end: doc.text.length } })),
        timings: { searchMs: 1, metadataMs: 1 },
      };
    },
    async snapshot() {},
    async close() {},
    store: {
      getDocument: (id: string) => docs.get(id),
      backupTo: async () => undefined,
      getState: (key: string) => state.get(key),
      setState: (key: string, value: string | number) => void state.set(key, String(value)),
    },
  } as unknown as ReplicaEngine;
}

function fakeEmbedder(fails: () => boolean = () => false): EmbedderPort {
  const info = { id: 'fake-model', checksum: '0'.repeat(64), dimension: 3, pooling: 'mean' as const };
  const vectors = (texts: string[]) => texts.map(() => new Float32Array([1, 0, 0]));
  return {
    info: { ...info, maxLength: 128, device: 'cpu' },
    passages: async (texts) => texts.map((text) => [{ start: 0, end: text.length }]),
    embed: async (texts) => {
      if (fails()) throw new Error('embedder worker exited with code 70');
      return vectors(texts);
    },
    embedTimed: async (texts) => ({ vectors: vectors(texts), queueMs: 0, embedMs: 1 }),
    stats: () => ({ queued: 0, inflight: 0, batches: 0, lastBatchSize: 0, batchSizes: [] }),
    health: () => ({ state: 'ok', restarts: 0, last_error: null }),
    close: async () => undefined,
  };
}

/** The change log and the ingest queue in memory; appends are applied to the engine at once. */
function fakeRedis(engine: () => ReplicaEngine) {
  let fence = 0;
  let seq = 0;
  let version = 0;
  const removed: string[] = [];
  const log = {
    connected: true,
    fence: async () => fence,
    issueVersion: async (floor: number) => (version = Math.max(version + 1, floor + 1)),
    takeFence: async (epoch: number) => (fence = Math.max(fence, epoch)),
    append: async (epoch: number, _model: string, ops: readonly { op: string; id: string }[]) => {
      if (epoch !== fence) throw new StaleEpochError(epoch, fence);
      const entries = ops.map((o) => ({ ...o, seq: `${++seq}-0` }) as ApplyEntry);
      await engine().apply(entries);
      return entries.map((e) => e.seq);
    },
    appliedPositions: async () => ({}),
    registerNode: async () => undefined,
    unregisterNode: async (id: string) => void removed.push(id),
    registeredNodes: async () => ({}),
    trimmedThrough: async () => '0-0',
    trim: async () => 0,
  } as unknown as ChangeLogPort;
  let processor: IngestProcessor | null = null;
  let onFinalFailure: FinalFailureHandler | undefined;
  const jobs = new Map<string, { id: string; data: IngestJobData; done: Promise<IngestJobResult> }>();
  const queue = {
    connected: true,
    enqueue: async (data: IngestJobData) => {
      const id = String(jobs.size + 1);
      const job = { id, data, updateProgress: async () => undefined, attemptsMade: 1 } as never;
      const done = processor ? processor(job) : new Promise<IngestJobResult>(() => undefined);
      // Every failure is the last attempt here: the fake does not retry.
      done.catch((err: Error) => onFinalFailure?.(job, err));
      jobs.set(id, { id, data, done });
      return job;
    },
    waitFinished: async (job: { id: string }) => jobs.get(job.id)!.done,
    getJob: async (id: string) => {
      const j = jobs.get(id);
      if (!j) return undefined;
      const pending = Symbol('pending');
      const settled = await Promise.race([j.done, Promise.resolve(pending)]).then(
        (value) => ({ value, error: undefined }),
        (error: Error) => ({ value: undefined, error }),
      );
      const returnvalue = settled.value === pending ? undefined : settled.value;
      const state = settled.error ? 'failed' : settled.value === pending ? 'active' : 'completed';
      return {
        ...j,
        progress: 100,
        returnvalue,
        failedReason: settled.error?.message,
        getState: async () => state,
      };
    },
    startWorker: (p: IngestProcessor, onFailed?: FinalFailureHandler) => {
      processor = p;
      onFinalFailure = onFailed;
    },
    stopWorker: async () => {
      processor = null;
    },
    counts: async () => ({ waiting: 0, active: 0, delayed: 0, failed: 0 }),
    close: async () => undefined,
  } as unknown as IngestQueuePort;
  return { log, queue, removed, moveFence: (n: number) => (fence = n) };
}

function recordingLogger(lines: Record<string, unknown>[], bound: Record<string, unknown> = {}): NodeLogger {
  const write =
    (level: string) =>
    (event: string, fields: Record<string, unknown> = {}) =>
      void lines.push({ level, event, ...bound, ...fields });
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields) => recordingLogger(lines, { ...bound, ...fields }),
  };
}

const nodes: SearchNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) n.load.stop();
});

function build(
  opts: { searchFails?: boolean; lag?: { entries: number; ms: number }; embedFails?: () => boolean } = {},
) {
  const docs = new Map<string, StoredDoc>();
  let engine = fakeEngine(docs, () => opts.searchFails === true);
  const redis = fakeRedis(() => engine);
  const lines: Record<string, unknown>[] = [];
  let releaseCopy: () => void = () => undefined;
  const node = new SearchNode({
    config: loadConfig({ NODE_ID: 'a', CLUSTER_SECRET: SECRET, DATA_DIR: '/nonexistent/unit' }),
    embedder: fakeEmbedder(opts.embedFails),
    engine,
    openEngine: async () => (engine = fakeEngine(docs)),
    createApplier: (target) => ({
      start: () => undefined,
      stop: async () => undefined,
      lag: () => opts.lag ?? { entries: 0, ms: 0 },
      stalledMs: () => 0,
      redisState: 'up',
      needsResync: false,
      checkTrimmed: async () => false,
      catchUp: async () => 0,
      waitForApplied: async (seq: string) => {
        if (target.appliedSeq < seq) throw new Error('not applied');
      },
    }),
    copyFromPeer: () => new Promise<void>((r) => (releaseCopy = r)),
    changeLog: redis.log,
    ingest: redis.queue,
    redisReady: async () => undefined,
    closeRedis: () => undefined,
    gpu: { latest: null, history: [], start: () => undefined, stop: () => undefined },
    disk: { state: 'ok', start: async () => undefined, stop: () => undefined },
    errors: new RecentErrors(),
    logger: recordingLogger(lines),
    metrics: createNodeMetrics(),
    advertiseUrl: 'http://127.0.0.1:1',
  });
  nodes.push(node);
  const app = createApp(node);
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of many shapes, checked by the assertions
  type Answer = { status: number; headers: Headers; body: any };
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const json: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    const res = await app.request(path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { ...json, ...headers },
    });
    return { status: res.status, headers: res.headers, body: await res.json() };
  };
  const signed = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    call(method, path, body, {
      ...(await signRequest(
        SECRET,
        method,
        path.split('?')[0]!,
        body === undefined ? '' : JSON.stringify(body),
        {
          node: 'a',
          epoch: headers['x-gte-epoch'],
        },
      )),
      ...headers,
    });
  return { node, app, call, signed, lines, redis, releaseCopy: () => releaseCopy() };
}

describe('search node HTTP app (in-memory parts)', () => {
  it('answers a search with results, timing and who served it', async () => {
    const { node, call, signed } = build();
    await node.start();
    expect((await signed('POST', '/api/v1/activate', { epoch: 1 })).status).toBe(200);
    const write = await signed(
      'POST',
      '/api/v1/documents',
      {
        documents: [
          { id: 'd1', text: 'hello', metadata: { lang: 'en' } },
          { id: 'd2', text: 'world' },
        ],
        wait: 'applied',
      },
      { 'x-gte-epoch': '1' },
    );
    expect(write.status, JSON.stringify(write.body)).toBe(200);
    expect(write.body).toMatchObject({ accepted: 2, status: 'applied', seq: '2-0' });
    const res = await call('POST', '/api/v1/search', { query: 'hello', top_k: 1 });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-served-by')).toBe('a');
    expect(res.headers.get('x-gte-epoch')).toBe('1');
    expect(res.body).toEqual({
      results: [
        {
          id: 'd1',
          score: 1,
          text: 'hello',
          metadata: { lang: 'en' },
          passage: { text: 'hello', start: 0, end: 5 },
        },
      ],
      took_ms: expect.any(Number),
      served_by: { node: 'a', role: 'master', epoch: 1, applied_seq: '2-0' },
    });
    expect(res.headers.get('x-gte-applied-seq')).toBe('2-0');
    // include_text: false leaves the document's text out, never its passage.
    const lean = await call('POST', '/api/v1/search', { query: 'hello', top_k: 1, include_text: false });
    expect(lean.body.results[0]).toEqual({
      id: 'd1',
      score: 1,
      metadata: { lang: 'en' },
      passage: { text: 'hello', start: 0, end: 5 },
    });
    const wrong = await call('POST', '/api/v1/search', { query: 'hello', include_text: 'no' });
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(wrong.body)).toContain('include_text');
    // min_seq: served once applied; past the applied position, 409 `behind` (the edge tries elsewhere).
    const fresh = await call('POST', '/api/v1/search', { query: 'hello', top_k: 1, min_seq: '2-0' });
    expect(fresh.status).toBe(200);
    const ahead = await call('POST', '/api/v1/search', { query: 'hello', top_k: 1, min_seq: '3-0' });
    expect(ahead.status).toBe(409);
    expect(ahead.body).toMatchObject({ error: { code: 'behind' } });
    expect((await signed('GET', '/api/v1/documents/d2')).body).toMatchObject({ id: 'd2', text: 'world' });
    expect((await signed('GET', `/api/v1/jobs/${write.body.job_id}`)).body).toMatchObject({
      state: 'completed',
      accepted: 2,
      seq: '2-0',
    });
  });

  it('answers 202 queued for a write that does not wait, and 400 for a bad wait level', async () => {
    const { node, signed } = build();
    await node.start();
    await signed('POST', '/api/v1/activate', { epoch: 1 });
    const queued = await signed(
      'POST',
      '/api/v1/documents',
      { documents: [{ id: 'q', text: 'queued' }], wait: 'none' },
      { 'x-gte-epoch': '1' },
    );
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ accepted: 1, status: 'queued', job_id: expect.any(String) });
    const bad = await signed('DELETE', '/api/v1/documents/q?wait=forever', undefined, { 'x-gte-epoch': '1' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('wait');
  });

  it('answers /health 200 once started, with the role and the index', async () => {
    const { node, call } = build();
    expect((await call('GET', '/health')).status).toBe(503);
    await node.start();
    const h = await call('GET', '/health');
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({
      status: 'ok',
      node: 'a',
      role: 'standby',
      ready: true,
      index: { size: 0 },
    });
    expect((await call('GET', '/api/v1/info')).body).toMatchObject({ node: 'a', version: VERSION });
  });

  it('refuses a write on a standby with 409 not_master', async () => {
    const { node, signed } = build();
    await node.start();
    const res = await signed(
      'POST',
      '/api/v1/documents',
      { documents: [{ id: 'x', text: 'y' }] },
      {
        'x-gte-epoch': '0',
      },
    );
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('not_master');
  });

  it('refuses a write with 409 stale_epoch when the fence moved on, and steps down', async () => {
    const { node, call, signed, redis, lines } = build();
    await node.start();
    await signed('POST', '/api/v1/activate', { epoch: 1 });
    const doc = { documents: [{ id: 'x', text: 'y' }], wait: 'applied' };
    // Stamped with another epoch: refused by the master itself.
    const wrong = await signed('POST', '/api/v1/documents', doc, { 'x-gte-epoch': '2' });
    expect(wrong.status).toBe(409);
    expect(wrong.body.error.code).toBe('stale_epoch');
    // Another node took the fence: this one learns it at the write and steps down.
    redis.moveFence(2);
    const fenced = await signed('POST', '/api/v1/documents', doc, {
      'x-gte-epoch': '1',
      'x-request-id': 'req-42',
    });
    expect(fenced.status).toBe(409);
    expect(fenced.body.error.code).toBe('stale_epoch');
    expect((await call('GET', '/health')).body.role).toBe('degraded');
    expect(lines).toContainEqual(expect.objectContaining({ event: 'role.deposed', request_id: 'req-42' }));
    // Re-activating at the old epoch is refused: the fence is already past it.
    const stale = await signed('POST', '/api/v1/activate', { epoch: 1 });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale_epoch');
  });

  it('refuses a write with 503 fence_behind when Redis lost the fence, and writes again once re-activated', async () => {
    const { node, call, signed, redis } = build();
    await node.start();
    await signed('POST', '/api/v1/activate', { epoch: 3 });
    const doc = { documents: [{ id: 'x', text: 'y' }] };
    // A Redis failover dropped the raise: the fence fell back below this master's epoch.
    redis.moveFence(1);
    const refused = await signed('POST', '/api/v1/documents', doc, { 'x-gte-epoch': '3' });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('fence_behind');
    // Not deposed: it stays master, and the coordinator's re-activation at its epoch raises the fence.
    expect((await call('GET', '/health')).body).toMatchObject({ role: 'master', epoch: 3 });
    expect((await signed('POST', '/api/v1/activate', { epoch: 3 })).status).toBe(200);
    expect((await signed('POST', '/api/v1/documents', doc, { 'x-gte-epoch': '3' })).status).toBe(202);
  });

  it('refuses an unsigned or badly signed control call with 401', async () => {
    const { call, signed } = build();
    const unsigned = await call('POST', '/api/v1/activate', { epoch: 1 });
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error.code).toBe('unsigned');
    const forged = await call(
      'POST',
      '/api/v1/degrade',
      { epoch: 1 },
      {
        ...(await signRequest('another-secret-0123456789', 'POST', '/api/v1/degrade', '{"epoch":1}', {
          node: 'a',
        })),
      },
    );
    expect(forged.status).toBe(401);
    expect((await signed('POST', '/api/v1/degrade', { epoch: 1 })).status).toBe(200);
  });

  it('answers bad input with a 4xx JSON error naming the field', async () => {
    const { call, signed } = build();
    const empty = await call('POST', '/api/v1/search', { query: '' });
    expect(empty.status).toBe(400);
    expect(empty.body.error).toMatchObject({ code: 'invalid_request', field: 'query' });
    const res = await signed('POST', '/api/v1/activate', { epoch: 0 });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('epoch');
    const unknown = await call('GET', '/api/v1/nothing');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });

  it('answers 503 resynchronising while a resync has the engine closed, then serves again', async () => {
    const { node, call, signed, releaseCopy } = build();
    await node.start();
    const resync = node.replica.resync();
    await new Promise((r) => setTimeout(r, 5));
    const search = await call('POST', '/api/v1/search', { query: 'hello' });
    expect(search.status).toBe(503);
    expect(search.body.error.code).toBe('resynchronising');
    expect((await signed('GET', '/api/v1/documents/d1')).body.error.code).toBe('resynchronising');
    const health = await call('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ ready: false, status: 'starting' });
    releaseCopy();
    await resync;
    expect((await call('GET', '/health')).status).toBe(200);
    expect((await call('POST', '/api/v1/search', { query: 'hello' })).status).toBe(200);
  });

  it('answers an unexpected failure with 500 and logs it with the request id', async () => {
    const { call, lines, node } = build({ searchFails: true });
    const res = await call('POST', '/api/v1/search', { query: 'hello' }, { 'x-request-id': 'req-7' });
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('internal');
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'error', event: 'http.error', request_id: 'req-7' }),
    );
    expect(node.diagnostics().recent_errors.map((e) => e.event)).toContain('http.error');
  });

  it('serves no reads while its lag is over the bound: /health 503 with the reason, searches 503 lagging', async () => {
    const { node, call } = build({ lag: { entries: 5000, ms: 90_000 } });
    await node.start();
    const h = await call('GET', '/health');
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ ready: false, status: 'starting', write_path: 'ok' });
    expect(h.body.parts).toEqual({
      embedder: 'ok',
      index: 'ok',
      applier: 'lagging: 5000 entries, 90000 ms behind (bound 1000 entries, 1000 ms)',
      redis: 'ok',
      disk: 'ok',
    });
    const search = await call('POST', '/api/v1/search', { query: 'hello' });
    expect(search.status).toBe(503);
    expect(search.body.error.code).toBe('lagging');
    expect(search.body.error.message).toContain('5000 entries');
  });

  it('a job that finally fails says failed and why, and moves gte_node_ingest_jobs_failed_total', async () => {
    let failing = false;
    const { node, call, signed, lines } = build({ embedFails: () => failing });
    await node.start();
    await signed('POST', '/api/v1/activate', { epoch: 1 });
    failing = true;
    const write = await signed(
      'POST',
      '/api/v1/documents',
      { documents: [{ id: 'f', text: 'never embedded' }] },
      { 'x-gte-epoch': '1' },
    );
    expect(write.status).toBe(202);
    await new Promise((r) => setTimeout(r, 5));
    const job = await signed('GET', `/api/v1/jobs/${write.body.job_id}`);
    expect(job.body).toMatchObject({
      state: 'failed',
      error: 'embedder worker exited with code 70',
      seq: null,
    });
    const metrics = await node.metrics.registry.getSingleMetricAsString('gte_node_ingest_jobs_failed_total');
    expect(metrics).toMatch(/^gte_node_ingest_jobs_failed_total 1$/m);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', event: 'ingest.job_failed' }));
    expect(node.diagnostics().recent_errors.map((e) => e.event)).toContain('ingest.job_failed');
    const health = await call('GET', '/health');
    expect(health.status).toBe(200);
    // /health carries it too, so the coordinator and the status page show it.
    expect(health.body.ingest).toEqual({
      failed_jobs: 1,
      last_failure: {
        job_id: String(write.body.job_id),
        reason: 'embedder worker exited with code 70',
        at: expect.any(Number),
      },
    });
  });

  it('refuses a control call signed for another node with 403 naming both', async () => {
    const { call } = build();
    const body = JSON.stringify({ epoch: 1 });
    const forB = await signRequest(SECRET, 'POST', '/api/v1/degrade', body, { node: 'b' });
    const res = await call('POST', '/api/v1/degrade', { epoch: 1 }, forB);
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({
      code: 'wrong_node',
      message: 'this call is for node b, this is node a; refused',
    });
  });

  it('refuses a signed call from before the node started listening (a replay across a restart)', async () => {
    const { node } = build();
    const body = JSON.stringify({ epoch: 1 });
    const earlier = await signRequest(SECRET, 'POST', '/api/v1/degrade', body, {
      node: 'a',
      now: Date.now() - 2000,
    });
    /** The call, sent to a process of this node that started listening at `since`. */
    const sendTo = (since: number) =>
      createApp(node, undefined, since).request('/api/v1/degrade', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...earlier },
      });
    // The restarted process: started listening a second ago, empty nonce cache.
    const res = await sendTo(Date.now() - 1000);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('before_start');
    // The same call is fine for a process that was listening when it was signed.
    expect((await sendTo(Date.now() - 5000)).status).toBe(200);
  });

  it('removes a node from the trim set on a signed DELETE /api/v1/peers/:id', async () => {
    const { signed, call, redis } = build();
    const res = await signed('DELETE', '/api/v1/peers/gpu-c');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ removed: 'gpu-c' });
    expect(redis.removed).toEqual(['gpu-c']);
    expect((await signed('DELETE', '/api/v1/peers/a')).status).toBe(409);
    expect((await signed('DELETE', `/api/v1/peers/${'x'.repeat(65)}`)).status).toBe(400);
    expect((await call('DELETE', '/api/v1/peers/gpu-d')).status).toBe(401);
    expect(redis.removed).toEqual(['gpu-c']);
  });
});

describe('min_seq wait a caller may ask of a standby', () => {
  it('is the header in whole ms, capped at MIN_SEQ_WAIT_MS; anything else is no wait', () => {
    expect(askedWaitMs('250')).toBe(250);
    expect(askedWaitMs('250.9')).toBe(250);
    expect(askedWaitMs(String(MIN_SEQ_WAIT_MS * 10))).toBe(MIN_SEQ_WAIT_MS);
    for (const bad of [undefined, '', '-5', 'soon', 'Infinity', 'NaN']) expect(askedWaitMs(bad)).toBe(0);
  });
});
