/**
 * The node's vector index: FAISS inner product over L2-normalised vectors (so scores are cosine
 * similarities), `Flat` by default or an HNSW factory string, run in a worker thread.
 *
 * Labels are FAISS positions, assigned by the metadata store; `add` insists that they continue
 * the index exactly, so the store and the index can never silently disagree.
 *
 * Concurrent searches are coalesced: while the worker answers one batch, new queries queue and
 * go over together as one multi-query FAISS call (one BLAS matrix product instead of many).
 */
import { WorkerRpc, startTsWorker } from '../util/ts-worker.ts';
import { hnswFromEnv } from '../config.ts';
import type { HnswParams, SearchReply, WorkerCommand } from './protocol.ts';

export type { HnswParams };

/** faiss::distance_compute_blas_threshold: from this many queries on, IndexFlat uses sgemm. */
const BLAS_THRESHOLD = 20;
/**
 * Padding pays from twelve real queries on. Below that the binding's SIMD scan, which reads the
 * vectors once for the whole batch, is as fast or faster (measured at 100,000 vectors: 12 queries
 * 28 ms scanned against 54 ms for 20 rows through BLAS at 100-d, 116 ms either way at 384-d).
 */
const PAD_FROM = 12;

export interface LabelHit {
  label: number;
  score: number;
}

interface PendingSearch {
  vector: Float32Array;
  k: number;
  resolve: (hits: LabelHit[]) => void;
  reject: (err: Error) => void;
}

export class VectorIndex {
  private ntotal = 0;
  private queue: PendingSearch[] = [];
  private searching = false;
  /** Sizes of recent multi-query batches, for /metrics. */
  lastSearchBatch = 0;

  private constructor(
    private readonly rpc: WorkerRpc<WorkerCommand>,
    readonly dimension: number,
    readonly factory: string,
  ) {}

  /** Called once if the FAISS thread dies on its own; every call on this index fails from then on. */
  set onDeath(handler: (err: Error) => void) {
    this.rpc.onDeath = handler;
  }

  /** Fault injection: make the FAISS thread exit. */
  crash(): void {
    void this.rpc.call({ type: 'crash' }).catch(() => undefined);
  }

  /**
   * Starts the worker; loads the snapshot at `snapshotPath` when it exists and fits. `hnsw`
   * defaults to the node's HNSW_EF_SEARCH / HNSW_EF_CONSTRUCTION settings.
   */
  static async open(opts: {
    dimension: number;
    factory: string;
    snapshotPath?: string;
    hnsw?: HnswParams;
  }): Promise<{ index: VectorIndex; fromSnapshot: boolean }> {
    const worker = startTsWorker(new URL('./faiss-worker.ts', import.meta.url));
    const rpc = new WorkerRpc<WorkerCommand>(worker, 'faiss');
    const index = new VectorIndex(rpc, opts.dimension, opts.factory);
    const r = await rpc.call<{ ntotal: number; fromSnapshot: boolean }>({
      type: 'init',
      dimension: opts.dimension,
      factory: opts.factory,
      path: opts.snapshotPath,
      hnsw: opts.hnsw ?? hnswFromEnv(process.env),
    });
    index.ntotal = r.ntotal;
    return { index, fromSnapshot: r.fromSnapshot };
  }

  /** Changes efSearch and/or efConstruction; answers the values in force, or null for a Flat index. */
  async setHnsw(hnsw: HnswParams): Promise<Required<HnswParams> | null> {
    return (await this.rpc.call<{ hnsw: Required<HnswParams> | null }>({ type: 'hnsw', hnsw })).hnsw;
  }

  get size(): number {
    return this.ntotal;
  }

  /** Appends vectors whose labels must be exactly size, size+1, ... */
  async add(items: readonly { label: number; vector: Float32Array }[]): Promise<void> {
    if (items.length === 0) return;
    const flat = new Float32Array(items.length * this.dimension);
    items.forEach((item, i) => {
      if (item.label !== this.ntotal + i) {
        throw new Error(
          `vector index out of step: label ${item.label} added at position ${this.ntotal + i}; rebuild the index (delete index.faiss)`,
        );
      }
      if (item.vector.length !== this.dimension)
        throw new Error(`vector of dimension ${item.vector.length}, index has ${this.dimension}`);
      flat.set(item.vector, i * this.dimension);
    });
    await this.addBlock(flat);
  }

  /**
   * Appends vectors packed back to back, labelled size, size+1, ...; the block is handed to the
   * FAISS thread (transferred: the caller's array is detached).
   */
  async addBlock(vectors: Float32Array): Promise<void> {
    if (vectors.length % this.dimension !== 0)
      throw new Error(
        `a block of ${vectors.length} floats is not whole vectors of dimension ${this.dimension}`,
      );
    if (vectors.length === 0) return;
    this.ntotal += vectors.length / this.dimension;
    await this.rpc.call({ type: 'add', vectors }, [vectors.buffer as ArrayBuffer]);
  }

  /** The k nearest labels by inner product (k is clamped to the index size; empty index → []). */
  search(vector: Float32Array, k: number): Promise<LabelHit[]> {
    if (this.ntotal === 0 || k <= 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ vector, k, resolve, reject });
      if (!this.searching) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.searching = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, 64);
      this.lastSearchBatch = batch.length;
      const k = Math.max(...batch.map((s) => s.k));
      // FAISS answers 20 or more queries with one BLAS matrix product, fewer go through the SIMD
      // scan; a batch just short of 20 is padded with zero rows to reach BLAS (their answers are
      // dropped).
      const rows =
        this.factory === 'Flat' && batch.length >= PAD_FROM && batch.length < BLAS_THRESHOLD
          ? BLAS_THRESHOLD
          : batch.length;
      const flat = new Float32Array(rows * this.dimension);
      batch.forEach((s, i) => flat.set(s.vector, i * this.dimension));
      try {
        const r = await this.rpc.call<SearchReply>({ type: 'search', vectors: flat, k }, [flat.buffer]);
        batch.forEach((s, i) => {
          const hits: LabelHit[] = [];
          for (let j = 0; j < Math.min(s.k, r.k); j++) {
            const label = r.labels[i * r.k + j]!;
            if (label >= 0) hits.push({ label, score: r.distances[i * r.k + j]! });
          }
          s.resolve(hits);
        });
      } catch (err) {
        for (const s of batch) s.reject(err as Error);
      }
    }
    this.searching = false;
  }

  /** Writes the index atomically (temp file, fsync, rename); returns the size it holds. */
  async snapshot(path: string): Promise<number> {
    const r = await this.rpc.call<{ ntotal: number }>({ type: 'write', path });
    return r.ntotal;
  }

  /** The index as bytes (what `snapshot` would write), so the caller can write it off the search thread. */
  async serialize(): Promise<{ ntotal: number; bytes: Uint8Array }> {
    const r = await this.rpc.call<{ ntotal: number; bytes: ArrayBuffer }>({ type: 'serialize' });
    return { ntotal: r.ntotal, bytes: new Uint8Array(r.bytes) };
  }

  async reset(): Promise<void> {
    await this.rpc.call({ type: 'reset', factory: this.factory });
    this.ntotal = 0;
  }

  async close(): Promise<void> {
    await this.rpc.terminate();
  }
}
