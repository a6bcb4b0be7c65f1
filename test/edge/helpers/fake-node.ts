/**
 * A tiny in-process HTTP server that speaks the search node API (ARCHITECTURE.md section 4)
 * honestly enough to drive the edge's probe loop, routing and failover through real workerd:
 * /health (NodeHealth), /api/v1/search, signed /api/v1/activate|degrade|standby|diagnostics
 * (HMAC checked with shared/signing.ts), and epoch-fenced document writes (409 on a stale epoch).
 *
 * It is NOT the search node: no model, no index, no Redis. The full-stack tests that start real
 * worker-node processes live with the integration tests; these fakes only let the edge's own
 * behaviour be tested before and independently of that.
 *
 *   const a = await startFakeNode({ id: 'a', secret: edge.clusterSecret, appliedSeq: '5-0' });
 *   a.state.overloaded = true;   // change what /health says
 *   a.mode = 'error';            // 503 to everything; 'hang' never answers
 *   a.searchLatencyMs = 1000;    // a slow node: searches and document reads answer after 1 s
 *   a.overloadSearch = true;     // searches answer 429 with Retry-After: 3
 *   await a.kill();              // connection refused from now on; a.revive() listens again
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HEADERS, MIN_SEQ_WAIT_MS } from '../../../shared/constants.ts';
import type { NodeDiagnostics, NodeHealth, Role } from '../../../shared/schemas.ts';
import { NonceCache, verifyRequest } from '../../../shared/signing.ts';
import { encodeFloat32 } from '../../../shared/embeddings.ts';
import { compareSeq } from '../../../shared/stream-id.ts';

export interface FakeNodeState {
  role: Role;
  epoch: number;
  ready: boolean;
  appliedSeq: string;
  lagEntries: number;
  overloaded: boolean;
  gpuUtil: number | null;
  /** Who this node follows (set by /api/v1/standby). */
  master: string | null;
  /** What /health says of the write path: `ok`, or why this node could not take writes. */
  writePath: string;
  /** The fence this node reads in Redis (null: not reported); activation raises it to the epoch. */
  redisFence: number | null;
}

export interface FakeCall {
  method: string;
  path: string;
  body: unknown;
  epochHeader: string | null;
  /** The x-request-id the edge sent (it forwards its own on every request-path call). */
  requestId: string | null;
  /** The x-gte-min-seq-wait-ms the edge sent (how long a standby may wait for min_seq). */
  minSeqWait: string | null;
  at: number;
}

export interface FakeNode {
  id: string;
  url: string;
  port: number;
  state: FakeNodeState;
  /** ok: normal; error: 503 to every request; hang: accept and never answer. */
  mode: 'ok' | 'error' | 'hang';
  /** When true, /api/v1/search answers 500 while /health stays fine (a broken index). */
  failSearch: boolean;
  /** When true, /api/v1/activate answers 500. */
  failActivate: boolean;
  /** Added before answering a search, a document read or an embed (a slow node; /health stays quick). */
  searchLatencyMs: number;
  /** When true, /api/v1/search answers 429 with Retry-After: 3 (the node's overload answer). */
  overloadSearch: boolean;
  /**
   * How document writes answer: `accept` 202 queued; `wait_timeout` the node's 504 for a write
   * that was accepted but did not reach its wait level in the node's own deadline; `applied`
   * 200 with `seq` = appliedWriteSeq (a `wait: "applied"` write the node has applied).
   */
  writeAnswer: 'accept' | 'wait_timeout' | 'applied';
  /** The log position an `applied` write answer reports. */
  appliedWriteSeq: string;
  /** Overrides the /api/v1/diagnostics body (e.g. something that is not NodeDiagnostics). */
  diagnosticsBody: unknown;
  calls: FakeCall[];
  /** Requests whose client went away before the answer was sent (e.g. a hedge's loser, aborted). */
  aborted: number;
  callsTo(path: string): FakeCall[];
  kill(): Promise<void>;
  revive(): Promise<void>;
  stop(): Promise<void>;
}

export interface FakeNodeOptions {
  id: string;
  secret: string;
  port?: number;
  state?: Partial<FakeNodeState>;
}

function health(id: string, s: FakeNodeState): NodeHealth {
  return {
    status: s.ready ? 'ok' : 'starting',
    node: id,
    role: s.role,
    epoch: s.epoch,
    ready: s.ready,
    model: { id: 'fake-model', loaded: true },
    index: { size: 3, applied_seq: s.appliedSeq },
    replication: {
      lag_entries: s.role === 'master' ? 0 : s.lagEntries,
      lag_ms: s.role === 'master' ? 0 : s.lagEntries * 10,
      redis: 'up',
      ...(s.redisFence === null
        ? {}
        : {
            redis_topology: {
              kind: 'sentinel' as const,
              role: 'master' as const,
              replicas: 1,
              min_replicas_ack: 1,
              fence: s.redisFence,
            },
          }),
    },
    gpu: s.gpuUtil === null ? null : { util: s.gpuUtil, mem_used_mb: 1000, mem_total_mb: 8000, temp_c: 60 },
    load: { inflight: 0, queued: 0, event_loop_lag_ms: 1, overloaded: s.overloaded },
    write_path: s.writePath,
  };
}

/** A NodeDiagnostics answer (shared/schemas.ts), as the real node's /api/v1/diagnostics gives. */
function diagnostics(id: string, s: FakeNodeState): NodeDiagnostics {
  const error = { at: new Date(0).toISOString(), event: 'fake.note', detail: 'nothing went wrong here' };
  return {
    node: id,
    role: { role: s.role, epoch: s.epoch, master: s.master },
    health: health(id, s),
    recent_errors: [error],
    oom_or_cuda_errors: [],
    gpu_history: [],
    memory: { rss: 1, heapTotal: 1, heapUsed: 1, external: 0, arrayBuffers: 0 },
    uptime_s: 1,
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const CONTROL = new Set(['/api/v1/activate', '/api/v1/degrade', '/api/v1/standby', '/api/v1/diagnostics']);

export async function startFakeNode(options: FakeNodeOptions): Promise<FakeNode> {
  const nonces = new NonceCache();
  const sockets = new Set<Socket>();
  const node: FakeNode = {
    id: options.id,
    url: '',
    port: 0,
    state: {
      role: 'standby',
      epoch: 0,
      ready: true,
      appliedSeq: '1-0',
      lagEntries: 0,
      overloaded: false,
      gpuUtil: null,
      master: null,
      writePath: 'ok',
      redisFence: null,
      ...options.state,
    },
    mode: 'ok',
    failSearch: false,
    failActivate: false,
    searchLatencyMs: 0,
    overloadSearch: false,
    writeAnswer: 'accept',
    appliedWriteSeq: '1-0',
    diagnosticsBody: undefined,
    calls: [],
    aborted: 0,
    callsTo: (path) => node.calls.filter((c) => c.path === path),
    kill: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
    revive: async () => listen(node.port),
    stop: async () => {
      if (server.listening) await node.kill();
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const raw = await readBody(req);
    let body: unknown = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    node.calls.push({
      method: req.method ?? '',
      path: url.pathname,
      body,
      epochHeader: (req.headers[HEADERS.epoch] as string) ?? null,
      requestId: (req.headers[HEADERS.requestId] as string) ?? null,
      minSeqWait: (req.headers[HEADERS.minSeqWait] as string) ?? null,
      at: Date.now(),
    });
    if (node.mode === 'hang') return; // never answers; the socket is destroyed on kill()
    if (node.mode === 'error')
      return send(res, 503, { error: { code: 'unavailable', message: 'fake node is failing' } });
    const s = node.state;

    if (req.method === 'GET' && url.pathname === '/health')
      return send(res, s.ready ? 200 : 503, health(node.id, s));
    const read =
      (req.method === 'POST' && url.pathname === '/api/v1/search') ||
      (req.method === 'GET' && url.pathname.startsWith('/api/v1/documents/')) ||
      (req.method === 'POST' && url.pathname === '/api/v1/embed');
    if (read && node.searchLatencyMs > 0) await new Promise((r) => setTimeout(r, node.searchLatencyMs));
    if (req.method === 'POST' && url.pathname === '/api/v1/search') {
      if (node.failSearch || !s.ready)
        return send(res, 500, { error: { code: 'index_error', message: 'fake index failure' } });
      if (node.overloadSearch) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' });
        return void res.end(JSON.stringify({ error: { code: 'overloaded', message: 'fake node is busy' } }));
      }
      const minSeq = (body as { min_seq?: string } | null)?.min_seq;
      // As the real node: it may wait as long as the edge asks (at most MIN_SEQ_WAIT_MS).
      const until = Date.now() + Math.min(Number(req.headers[HEADERS.minSeqWait] ?? 0) || 0, MIN_SEQ_WAIT_MS);
      while (minSeq !== undefined && compareSeq(s.appliedSeq, minSeq) < 0 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 10));
      if (minSeq !== undefined && compareSeq(s.appliedSeq, minSeq) < 0)
        return send(res, 409, { error: { code: 'behind', message: `applied ${s.appliedSeq} < ${minSeq}` } });
      // As the real node does (worker-node/routes/search.ts): the position it served at.
      res.setHeader(HEADERS.appliedSeq, s.appliedSeq);
      return send(res, 200, {
        results: [
          {
            id: 'doc-1',
            score: 0.9,
            text: `answer from ${node.id}`,
            metadata: {},
            passage: { text: `answer from ${node.id}`, start: 0, end: `answer from ${node.id}`.length },
          },
        ],
        took_ms: 1,
        served_by: { node: node.id, role: s.role, epoch: s.epoch, applied_seq: s.appliedSeq },
      });
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/info') return send(res, 200, fakeInfo(node.id));
    if (req.method === 'POST' && url.pathname === '/api/v1/embed') {
      if (node.failSearch || !s.ready)
        return send(res, 500, { error: { code: 'embedder_unavailable', message: 'fake embedder failure' } });
      const [status, answer] = fakeEmbed(body as { model?: string; input: string[]; dimensions?: number });
      return send(res, status, answer);
    }
    const signed =
      CONTROL.has(url.pathname) ||
      url.pathname.startsWith('/api/v1/documents') ||
      url.pathname.startsWith('/api/v1/peers/') ||
      url.pathname.startsWith('/api/v1/jobs');
    if (signed) {
      const verdict = await verifyRequest(
        options.secret,
        req.method ?? '',
        url.pathname,
        { get: (h) => (req.headers[h] as string) ?? null },
        raw,
        nonces,
        Date.now(),
        // As a real node does: a call signed for another node (or for none) is refused.
        { node: node.id },
      );
      if (!verdict.ok) return send(res, 401, { error: { code: verdict.code, message: verdict.message } });
    }
    const epoch = (body as { epoch?: number } | null)?.epoch ?? 0;
    switch (url.pathname) {
      case '/api/v1/activate':
        if (node.failActivate)
          return send(res, 500, { error: { code: 'activate_failed', message: 'fake activation failure' } });
        if (epoch < s.epoch)
          return send(res, 409, { error: { code: 'stale_epoch', message: `epoch ${epoch} < ${s.epoch}` } });
        Object.assign(s, { role: 'master', epoch, master: node.id, lagEntries: 0 });
        if (s.redisFence !== null) s.redisFence = Math.max(s.redisFence, epoch);
        return send(res, 200, {
          node: node.id,
          role: 'master',
          epoch,
          applied_seq: s.appliedSeq,
          catch_up_ms: 1,
          replayed: 0,
        });
      case '/api/v1/degrade':
        if (epoch < s.epoch)
          return send(res, 409, { error: { code: 'stale_epoch', message: `epoch ${epoch} < ${s.epoch}` } });
        Object.assign(s, { role: 'degraded', epoch });
        return send(res, 200, { node: node.id, role: 'degraded', epoch });
      case '/api/v1/standby': {
        if (epoch < s.epoch)
          return send(res, 409, { error: { code: 'stale_epoch', message: `epoch ${epoch} < ${s.epoch}` } });
        Object.assign(s, { role: 'standby', epoch, master: (body as { master?: string }).master ?? null });
        return send(res, 200, { node: node.id, role: 'standby', epoch });
      }
      case '/api/v1/diagnostics':
        return send(res, 200, node.diagnosticsBody ?? diagnostics(node.id, s));
    }
    if (url.pathname.startsWith('/api/v1/peers/') && req.method === 'DELETE')
      return send(res, 200, { removed: decodeURIComponent(url.pathname.slice('/api/v1/peers/'.length)) });
    if (url.pathname.startsWith('/api/v1/documents')) {
      const stamped = Number(req.headers[HEADERS.epoch]);
      if (s.role !== 'master' || stamped !== s.epoch) {
        return send(res, 409, {
          error: {
            code: 'stale_epoch',
            message: `x-gte-epoch ${stamped} is not this master's epoch ${s.epoch}`,
          },
        });
      }
      const jobId = `job-${node.calls.length}`;
      if (node.writeAnswer === 'wait_timeout')
        // The search node's own words: accepted, but not at the wait level within its deadline.
        return send(res, 504, {
          error: {
            code: 'wait_timeout',
            message: `job ${jobId} accepted but not finished within 30000 ms (timeout); poll /api/v1/jobs/${jobId}`,
          },
        });
      if (req.method === 'POST' && node.writeAnswer === 'applied')
        return send(res, 200, { job_id: jobId, status: 'applied', seq: node.appliedWriteSeq });
      if (req.method === 'POST')
        return send(res, 202, {
          job_id: jobId,
          accepted: (body as { documents: unknown[] }).documents.length,
          status: 'queued',
        });
      if (req.method === 'DELETE') return send(res, 202, { job_id: jobId, accepted: 1, status: 'queued' });
    }
    return send(res, 404, {
      error: { code: 'not_found', message: `fake node has no ${req.method} ${url.pathname}` },
    });
  }

  const server: Server = createServer((req, res) => {
    res.on('close', () => {
      if (!res.writableFinished) node.aborted++;
    });
    handle(req, res).catch((error) =>
      send(res, 500, { error: { code: 'fake_node_bug', message: String(error) } }),
    );
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    node.port = (server.address() as AddressInfo).port;
    node.url = `http://127.0.0.1:${node.port}`;
  }
  await listen(options.port ?? 0);
  return node;
}

/** A loopback port with nothing listening: connect fails at once. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The fake nodes' model: 3 dimensions, a vector from each text's length (the same on every node). */
export const FAKE_MODEL = { id: 'fake/model-3d', dimension: 3 };

export function fakeVector(text: string): Float32Array {
  const v = [1, text.length, text.length % 7];
  const norm = Math.hypot(...v);
  return Float32Array.from(v.map((x) => x / norm));
}

function fakeInfo(id: string) {
  return {
    node: id,
    version: '0.0.0',
    model: {
      id: FAKE_MODEL.id,
      checksum: 'fake',
      dimension: FAKE_MODEL.dimension,
      pooling: 'mean',
      max_length: 128,
      device: 'cpu',
    },
    index: { type: 'Flat', metric: 'inner_product', size: 0, labels: 0 },
    redis_prefix: 'fake',
  };
}

/** As worker-node/routes/embed.ts answers (model and dimensions checked, base64 float32). */
function fakeEmbed(body: { model?: string; input: string[]; dimensions?: number }): [number, unknown] {
  if (body.model !== undefined && body.model !== FAKE_MODEL.id)
    return [404, { error: { code: 'model_not_found', message: `no model ${body.model}`, field: 'model' } }];
  if (body.dimensions !== undefined && body.dimensions !== FAKE_MODEL.dimension)
    return [
      400,
      { error: { code: 'invalid_dimensions', message: 'dimensions: 3 only', field: 'dimensions' } },
    ];
  return [
    200,
    {
      model: FAKE_MODEL.id,
      dimension: FAKE_MODEL.dimension,
      vectors: body.input.map((text) => encodeFloat32(fakeVector(text))),
      tokens: body.input.map((text) => text.split(/\s+/).length + 2),
    },
  ];
}
