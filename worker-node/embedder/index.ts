/**
 * The embedder: text → L2-normalised vectors with an ONNX model (the offline GloVe demo model or
 * any Hugging Face BERT-style export). Concurrent calls are micro-batched (batcher.ts) and run in
 * a worker thread (session-worker.ts) so the event loop stays free for /health and search.
 *
 * @example
 *   const embedder = await createEmbedder({ modelDir: '.gte/models/glove-100d-demo', device: 'cpu' });
 *   const [query] = await embedder.embed(['how do I restart the GPU server']);
 */
import { MicroBatcher } from './batcher.ts';
import { EmbedderUnavailableError, QueueFullError } from './errors.ts';
import { loadModelConfig } from './model-config.ts';
import type { PassageSpan } from './passages.ts';
import type { Device, RunStat } from './protocol.ts';
import { type PartHealth, Supervisor } from '../util/supervisor.ts';
import { clipText, estimateTokens } from './tokenizer.ts';
import { SessionWorker } from './worker-client.ts';

export { EmbedderUnavailableError, QueueFullError };
export type { PassageSpan, RunStat };

export interface EmbedderInfo {
  id: string;
  /** sha256 of the ONNX file: nodes whose checksums differ must not share an index. */
  checksum: string;
  dimension: number;
  pooling: 'mean' | 'cls';
  maxLength: number;
  /** The device really used: 'cpu' when CUDA was asked for but could not be loaded. */
  device: Device;
}

export interface EmbedTimings {
  /** Waiting for a batch slot. */
  queueMs: number;
  /** From dispatch until the last vector came back (tokenization + inference + transfer). */
  embedMs: number;
}

export interface EmbedderStats {
  /** Texts waiting for a dispatch. */
  queued: number;
  /** Texts dispatched to the worker and not yet back. */
  inflight: number;
  /** Session runs since start (warm-up excluded). */
  batches: number;
  lastBatchSize: number;
  /** Texts per session run, most recent last (up to 128). */
  batchSizes: number[];
}

export interface Embedder {
  readonly info: EmbedderInfo;
  /**
   * Each document's passages: overlapping spans that fit the model's window (passages.ts), cut
   * with the model's tokenizer in the worker thread. Embed `text.slice(start, end)` of each.
   */
  passages(texts: string[]): Promise<PassageSpan[][]>;
  /** L2-normalised vectors, one per text, in order. Rejects with QueueFullError when the bounded queue is full. */
  embed(texts: string[], opts?: { signal?: AbortSignal }): Promise<Float32Array[]>;
  /** embed() plus where the time went, for the metrics histograms. */
  embedTimed(
    texts: string[],
    opts?: { signal?: AbortSignal },
  ): Promise<{ vectors: Float32Array[] } & EmbedTimings>;
  stats(): EmbedderStats;
  /** Whether the session worker is up: `restarting` after it died, `failed` after repeated deaths. */
  health(): PartHealth;
  /** Fault injection: kill the session worker (the supervisor restarts it). */
  crashWorker(): void;
  close(): Promise<void>;
}

export interface EmbedderOptions {
  modelDir: string;
  device: Device;
  /** ONNX Runtime intra-op threads; ORT's default (all cores) when absent. */
  threads?: number;
  /** batch size × padded length of one session run. Default 8192. */
  maxBatchTokens?: number;
  /** How long a lone call waits for company before it is dispatched. Default 2 ms. */
  maxBatchWaitMs?: number;
  /** Texts that may wait; more is QueueFullError. Default 512. */
  maxQueue?: number;
  /** false: each call runs alone (for comparison and debugging). Default true. */
  batching?: boolean;
  /** Tokens shared by consecutive passages of a long document (PASSAGE_OVERLAP_TOKENS). Default 32. */
  passageOverlapTokens?: number;
  onLog?: (event: string, fields: Record<string, unknown>) => void;
  /**
   * Called once per session run (warm-up excluded), for a batch-size histogram that observes each
   * run exactly once; stats().batchSizes is a sliding window and would double-count across scrapes.
   */
  onBatch?: (run: RunStat) => void;
}

const RECENT_BATCHES = 128;
export const DEFAULT_PASSAGE_OVERLAP_TOKENS = 32;
const SPLIT_MESSAGE_CHARS = 16_384;

export async function createEmbedder(opts: EmbedderOptions): Promise<Embedder> {
  const started = performance.now();
  const log = opts.onLog ?? (() => {});
  const maxBatchTokens = opts.maxBatchTokens ?? 8192;
  const config = await loadModelConfig(opts.modelDir);
  if (maxBatchTokens < config.maxLength) {
    throw new Error(
      `maxBatchTokens ${maxBatchTokens} is below the model's max length ${config.maxLength}; one long text would not fit a batch`,
    );
  }
  const init = {
    onnxPath: config.onnxPath,
    tokenizerPath: config.tokenizerPath,
    device: opts.device,
    ...(opts.threads ? { threads: opts.threads } : {}),
    pooling: config.pooling,
    maxLength: config.maxLength,
    dimension: config.dimension,
    maxBatchTokens,
  };
  let worker = await SessionWorker.start(init, log);
  // A dead session worker is replaced; calls meanwhile fail fast with EmbedderUnavailableError.
  const supervisor = new Supervisor(
    'embedder',
    async () => {
      worker = await SessionWorker.start(init, log);
      worker.onDeath = (err) => supervisor.crashed(err);
    },
    log,
  );
  worker.onDeath = (err) => supervisor.crashed(err);

  let batchSizes: number[] = [];
  let batches = 0;
  let warm = false;
  const batcher = new MicroBatcher<Float32Array>({
    maxBatchTokens,
    maxBatchWaitMs: opts.maxBatchWaitMs ?? 2,
    maxQueue: opts.maxQueue ?? 512,
    batching: opts.batching ?? true,
    estimateTokens: (text) => estimateTokens(text, config.maxLength),
    run: async (texts) => {
      // Clipped here so a 100k-character document is not copied whole into the worker.
      const reply = await worker.embed(texts.map((text) => clipText(text, config.maxLength)));
      for (const run of reply.runs) {
        batchSizes.push(run.size);
        if (warm) opts.onBatch?.(run);
      }
      batches += reply.runs.length;
      if (batchSizes.length > RECENT_BATCHES) batchSizes = batchSizes.slice(-RECENT_BATCHES);
      return reply.vectors;
    },
  });

  const info: EmbedderInfo = {
    id: config.id,
    checksum: config.checksum,
    dimension: config.dimension,
    pooling: config.pooling,
    maxLength: config.maxLength,
    device: worker.device,
  };

  const embedTimed: Embedder['embedTimed'] = async (texts, callOpts) => {
    const timed = await batcher.submit(texts, callOpts?.signal);
    return { vectors: timed.results, queueMs: timed.queueMs, embedMs: timed.runMs };
  };

  const overlapTokens = opts.passageOverlapTokens ?? DEFAULT_PASSAGE_OVERLAP_TOKENS;
  // The worker answers one message at a time, and a search's query waits behind whatever is ahead
  // of it: texts go over in messages of about SPLIT_MESSAGE_CHARS, one after another, so a query
  // waits for one of them (milliseconds), not for a whole ingest batch of long documents.
  const passages: Embedder['passages'] = async (texts) => {
    const out: PassageSpan[][] = [];
    for (let i = 0; i < texts.length; ) {
      let end = i + 1;
      let chars = texts[i]!.length;
      while (end < texts.length && chars + texts[end]!.length <= SPLIT_MESSAGE_CHARS)
        chars += texts[end++]!.length;
      out.push(...(await worker.split(texts.slice(i, end), overlapTokens)));
      i = end;
    }
    return out;
  };

  try {
    // The first run allocates ORT's arenas and JIT-compiles the tokenizer; pay that before serving.
    await embedTimed(['warm up the embedding model']);
    // ...and an overlap the model's window cannot hold stops the node here, not at its first write.
    await passages(['warm up the passage splitter']).catch((err: Error) => {
      const setting = `PASSAGE_OVERLAP_TOKENS=${JSON.stringify(String(overlapTokens))}`;
      throw new Error(
        `invalid setting ${setting} for this model: ${err.message.replace(/^embedding failed: /, '')}`,
      );
    });
  } catch (err) {
    await batcher.close();
    await worker.close();
    throw err;
  }
  batchSizes = [];
  batches = 0;
  warm = true;
  log('embedder.ready', { ...info, startupMs: Math.round(performance.now() - started) });

  return {
    info,
    passages,
    embedTimed,
    embed: async (texts, callOpts) => (await embedTimed(texts, callOpts)).vectors,
    stats: () => ({
      queued: batcher.queued,
      inflight: batcher.inflight,
      batches,
      lastBatchSize: batchSizes[batchSizes.length - 1] ?? 0,
      batchSizes: [...batchSizes],
    }),
    health: () => supervisor.health,
    crashWorker: () => worker.crash(),
    close: async () => {
      supervisor.close();
      await batcher.close();
      await worker.close();
    },
  };
}
