/**
 * Search node entry point: validate settings, load the model and the data, start HTTP, follow the
 * change log. SIGTERM/SIGINT: stop accepting, finish what is in flight, snapshot, exit 0.
 */
import { type HttpBindings, serve } from '@hono/node-server';
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { advertiseUrl, loadConfig } from './config.ts';
import { createEmbedder } from './embedder/index.ts';
import { SearchEngine } from './engine.ts';
import { createApp } from './app.ts';
import { FaultInjector } from './faults.ts';
import { RecentErrors } from './health.ts';
import { IngestQueue } from './ingest/ingest-queue.ts';
import type { ReplicaEngine } from './parts.ts';
import { createLogger } from './log.ts';
import { connectRedis } from './redis-connection.ts';
import { ModelMismatchError } from './metadata/store.ts';
import { Applier } from './replication/applier.ts';
import { ChangeLog } from './replication/change-log.ts';
import { RedisWatch } from './replication/redis-watch.ts';
import { resyncFromPeer } from './replication/resync.ts';
import { QueryExpander } from './keyword/expansion.ts';
import { loadWordTable } from './keyword/word-table.ts';
import { SearchNode } from './search-node.ts';
import { DiskProbe } from './telemetry/disk.ts';
import { GpuMonitor } from './telemetry/gpu.ts';
import { createNodeMetrics } from './telemetry/metrics.ts';
import { tetherToParent } from './util/tether.ts';

// FAISS (OpenMP) and ONNX Runtime would each start a thread per core and fight over them; FAISS
// runs one search batch at a time in its own worker thread, so one OpenMP thread serves it best
// (measured: 1.8x queries/s on 2 cores, BENCHMARKS.md notes). libgomp reads this when it loads.
process.env.OMP_NUM_THREADS ??= '1';

/** How long an idle keep-alive connection stays open (see where the server starts). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

const config = loadConfig();
let node: SearchNode | null = null;
const logger = createLogger(
  () => ({ node: config.NODE_ID, epoch: node?.roles.current.epoch }),
  config.LOG_LEVEL,
);

async function main() {
  mkdirSync(config.dataDir, { recursive: true });
  const metrics = createNodeMetrics();
  const embedder = await createEmbedder({
    modelDir: config.modelDir,
    device: config.EMBED_DEVICE,
    threads: config.EMBED_THREADS,
    batching: config.EMBED_BATCHING,
    maxBatchTokens: config.EMBED_MAX_BATCH_TOKENS,
    maxQueue: config.EMBED_MAX_QUEUE,
    passageOverlapTokens: config.PASSAGE_OVERLAP_TOKENS,
    onLog: (event, fields) => logger.info(event, fields),
    onBatch: (run) => metrics.embedBatchSize.observe(run.size),
  });
  const model = {
    id: embedder.info.id,
    checksum: embedder.info.checksum,
    dimension: embedder.info.dimension,
  };
  // Query expansion's neighbours come from the model's own word table: every node has the same one.
  const table = await loadWordTable(config.modelDir);
  const queryExpander = table ? new QueryExpander(table) : undefined;
  const openEngine = () =>
    SearchEngine.open({
      dataDir: config.dataDir,
      model,
      factory: config.INDEX_FACTORY,
      onLog: logger.info,
      keywordReaders: config.KEYWORD_READERS ?? Math.min(2, availableParallelism()),
    });
  const engine = await openEngine();

  // The URL peers and the coordinator reach us at; the port is known only once we listen.
  // Listen first (PORT=0 picks a free port, and peers need the real URL); until the node is
  // wired up every request gets a 503 "starting".
  let handle = (_req: Request, _env: HttpBindings): Response | Promise<Response> =>
    Response.json({ error: { code: 'starting', message: 'node is starting' } }, { status: 503 });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve(
      { fetch: (req, env) => handle(req, env as HttpBindings), hostname: config.HOST, port: config.PORT },
      () => resolve(s),
    );
  });
  // Idle keep-alive connections stay open longer than any client keeps them (undici and workerd
  // drop theirs after about 4 s): the client closes first, so a request never races the server's
  // close of the connection it was sent on (ECONNRESET). Node's default is 5 s.
  const http = server as unknown as { keepAliveTimeout: number; headersTimeout: number };
  http.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  http.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  // Signed calls from before this moment are refused (routes/http.ts: no replay across a restart).
  const listeningSince = Date.now();
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.PORT;
  const url = advertiseUrl(config, port);
  node = buildNode({ embedder, engine, openEngine, metrics, advertiseUrl: url, queryExpander });
  const faults = config.FAULT_INJECTION
    ? new FaultInjector(
        (on) => (node!.forcedOverload = on),
        (part) => (part === 'embedder' ? embedder.crashWorker() : node!.replica.crashIndex()),
      )
    : undefined;
  const app = createApp(node, faults, listeningSince);
  // The Node request travels with it: routes/http.ts reads bodies from it directly.
  handle = (req, env) => app.fetch(req, env);
  await node.start();
  node.startTrimming();
  logger.info('node.listening', {
    url,
    listen: `${config.HOST}:${port}`,
    model: model.id,
    device: embedder.info.device,
    documents: engine.size,
    applied_seq: engine.appliedSeq,
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('node.stopping', { signal });
    const hardStop = setTimeout(() => process.exit(1), 15_000);
    hardStop.unref();
    // Stop accepting connections first, then drain what is in flight, then snapshot.
    server.close();
    const deadline = Date.now() + 10_000;
    while (node!.load.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await node!.stop();
    logger.info('node.stopped', {});
    process.exit(0);
  };
  if (process.env.GTE_PARENT_PID)
    tetherToParent(Number(process.env.GTE_PARENT_PID), () => void shutdown('parent-gone'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** The Redis connections, the change log and the ingest queue, wired into one SearchNode. */
function buildNode(
  parts: Pick<
    ConstructorParameters<typeof SearchNode>[0],
    'embedder' | 'engine' | 'openEngine' | 'metrics' | 'advertiseUrl' | 'queryExpander'
  >,
): SearchNode {
  const errors = new RecentErrors();
  const onRedisError = (err: Error) => errors.note('redis.error', err.message);
  // Commands fail fast while Redis is down (writes answer 503); the applier's blocking reads
  // each get a connection of their own, one per applier (a resync makes a new one).
  const redis = connectRedis(config.redis, { maxRetriesPerRequest: 2, enableOfflineQueue: false });
  redis.on('error', onRedisError);
  const changeLog = new ChangeLog(redis, config.REDIS_PREFIX, {
    minReplicas: config.REDIS_MIN_REPLICAS_ACK,
    timeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
  });
  // Across appliers (a resync makes a new one): entries applied out of epoch order, for /health.
  let epochRegressions = 0;
  const redisWatch = new RedisWatch(changeLog, config.redis);
  redisWatch.start();
  const createApplier = (target: ReplicaEngine) => {
    const blockingRedis = connectRedis(config.redis, { maxRetriesPerRequest: null });
    blockingRedis.on('error', onRedisError);
    return new Applier({
      log: changeLog,
      blockingRedis,
      engine: target,
      nodeId: config.NODE_ID,
      logger,
      expectedModel: parts.embedder.info.id,
      appliedEntries: parts.metrics.appliedEntries,
      onEpochRegression: (seq, epoch, previous) => {
        epochRegressions++;
        parts.metrics.epochRegressions.inc();
        errors.note(
          'replication.epoch_regressed',
          `entry ${seq} has epoch ${epoch}, after epoch ${previous}`,
        );
      },
    });
  };
  return new SearchNode({
    ...parts,
    config,
    createApplier,
    copyFromPeer: () =>
      resyncFromPeer({
        nodeId: config.NODE_ID,
        dataDir: config.dataDir,
        secret: config.CLUSTER_SECRET,
        log: changeLog,
        logger,
      }),
    changeLog,
    ingest: new IngestQueue(config.redis, config.REDIS_PREFIX, {
      minReplicas: config.REDIS_MIN_REPLICAS_ACK,
      timeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
    }),
    redisReady: () =>
      Promise.race([
        new Promise<void>((r) => redis.once('ready', () => r())),
        new Promise<void>((r) => setTimeout(r, 2000)),
      ]),
    redisTopology: () => redisWatch.view,
    refreshRedisTopology: () => redisWatch.refresh(),
    epochRegressions: () => epochRegressions,
    closeRedis: () => {
      redisWatch.stop();
      redis.disconnect();
    },
    gpu: new GpuMonitor(),
    disk: new DiskProbe(config.dataDir),
    errors,
    logger,
  });
}

main().catch((err) => {
  if (err instanceof ModelMismatchError) {
    logger.error('node.model_mismatch', { error: err.message });
    process.stderr.write(`${err.message}\n`);
    process.exit(3);
  }
  logger.error('node.start_failed', { error: (err as Error).message, stack: (err as Error).stack });
  process.stderr.write(`search node failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
