/**
 * Search node entry point: validate settings, load the model and the data, start HTTP, follow the
 * change log. SIGTERM/SIGINT: stop accepting, finish what is in flight, snapshot, exit 0.
 */
import { serve } from '@hono/node-server';
import { loadConfig } from './config.ts';
import { createEmbedder } from './embedder/index.ts';
import { SearchEngine } from './engine.ts';
import { createApp } from './app.ts';
import { FaultInjector } from './faults.ts';
import { createLogger } from './log.ts';
import { ModelMismatchError } from './metadata/store.ts';
import { SearchNode } from './search-node.ts';
import { createNodeMetrics } from './telemetry/metrics.ts';
import { tetherToParent } from './util/tether.ts';

// FAISS (OpenMP) and ONNX Runtime would each start a thread per core and fight over them; FAISS
// runs one search batch at a time in its own worker thread, so one OpenMP thread serves it best
// (measured: 1.8x queries/s on 2 cores, BENCHMARKS.md notes). libgomp reads this when it loads.
process.env.OMP_NUM_THREADS ??= '1';

const config = loadConfig();
let node: SearchNode | null = null;
const logger = createLogger(
  () => ({ node: config.NODE_ID, epoch: node?.role.epoch ?? null }),
  config.LOG_LEVEL,
);

async function main() {
  SearchNode.ensureDataDir(config.dataDir);
  const metrics = createNodeMetrics();
  const embedder = await createEmbedder({
    modelDir: config.modelDir,
    device: config.EMBED_DEVICE,
    threads: config.EMBED_THREADS,
    batching: config.EMBED_BATCHING,
    maxBatchTokens: config.EMBED_MAX_BATCH_TOKENS,
    maxQueue: config.EMBED_MAX_QUEUE,
    onLog: (event, fields) => logger.info(event, fields),
    onBatch: (run) => metrics.embedBatchSize.observe(run.size),
  });
  const model = {
    id: embedder.info.id,
    checksum: embedder.info.checksum,
    dimension: embedder.info.dimension,
  };
  const engine = await SearchEngine.open({
    dataDir: config.dataDir,
    model,
    factory: config.INDEX_FACTORY,
    onLog: logger.info,
  });

  // The URL peers and the coordinator reach us at; the port is known only once we listen.
  // Listen first (PORT=0 picks a free port, and peers need the real URL); until the node is
  // wired up every request gets a 503 "starting".
  let handle = (_req: Request): Response | Promise<Response> =>
    Response.json({ error: { code: 'starting', message: 'node is starting' } }, { status: 503 });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: (req) => handle(req), hostname: config.HOST, port: config.PORT }, () =>
      resolve(s),
    );
  });
  const addr = server.address();
  const publicUrl = `http://${config.HOST}:${typeof addr === 'object' && addr ? addr.port : config.PORT}`;
  node = new SearchNode(config, embedder, engine, logger, metrics, publicUrl);
  const faults = config.FAULT_INJECTION ? new FaultInjector((on) => (node!.forcedOverload = on)) : undefined;
  const app = createApp(node, faults);
  handle = (req) => app.fetch(req);
  await node.start();
  node.startTrimming();
  logger.info('node.listening', {
    url: publicUrl,
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
