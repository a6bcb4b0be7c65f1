/**
 * The searchable state of one node: the SQLite store (truth) plus the FAISS index (cache) plus
 * the label → id map, kept in step. Every change arrives through `apply`, whether the node is
 * master or standby, so all nodes hold the same documents at the same log position.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MetadataStore, type ApplyEntry, type ModelIdentity, type StoredDoc } from './metadata/store.ts';
import { VectorIndex } from './vector-index/index.ts';

export interface SearchHitDoc {
  doc: StoredDoc;
  score: number;
}

export interface EngineTimings {
  searchMs: number;
  metadataMs: number;
}

/** Compaction runs once tombstones exceed both this share of the index and an absolute floor. */
const COMPACT_RATIO = 0.25;
const COMPACT_MIN_TOMBSTONES = 1000;
const HNSW_MIN_FETCH = 64;

export class SearchEngine {
  private labels: (string | null)[] = [];
  private tombstones = 0;
  private applying: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly store: MetadataStore,
    private index: VectorIndex,
    private readonly dataDir: string,
    readonly factory: string,
  ) {}

  /**
   * Opens the data directory: SQLite first, then the index snapshot if it belongs to the same
   * label generation, topped up with any vectors applied after it was written; otherwise the
   * index is rebuilt from the stored vectors (after a compaction, so labels are dense).
   */
  static async open(opts: {
    dataDir: string;
    model: ModelIdentity;
    factory: string;
    onLog?: (event: string, f: Record<string, unknown>) => void;
  }) {
    const store = new MetadataStore(join(opts.dataDir, 'metadata.sqlite'));
    store.bindModel(opts.model);
    const snapshotPath = join(opts.dataDir, 'index.faiss');
    const snapGen = store.getState('snapshot_generation');
    const usable =
      existsSync(snapshotPath) &&
      snapGen === String(store.generation) &&
      store.getState('snapshot_factory') === opts.factory;
    const started = Date.now();
    const { index, fromSnapshot } = await VectorIndex.open({
      dimension: opts.model.dimension,
      factory: opts.factory,
      snapshotPath: usable ? snapshotPath : undefined,
    });
    const engine = new SearchEngine(store, index, opts.dataDir, opts.factory);
    if (!fromSnapshot || index.size > store.nextLabel) {
      await index.reset();
      store.compact();
    }
    const toppedUp = await engine.addFromStore(index.size);
    engine.labels = store.labelMap();
    engine.tombstones = engine.labels.filter((l) => l === null).length;
    opts.onLog?.('index.loaded', {
      from_snapshot: fromSnapshot,
      size: index.size,
      added_from_store: toppedUp,
      documents: store.documentCount,
      ms: Date.now() - started,
    });
    return engine;
  }

  /** Adds stored vectors from `fromLabel` on; labels with no live row get a zero vector (a tombstone). */
  private async addFromStore(fromLabel: number): Promise<number> {
    const dim = this.index.dimension;
    let next = fromLabel;
    let batch: { label: number; vector: Float32Array }[] = [];
    const flush = async () => {
      await this.index.add(batch);
      batch = [];
    };
    for (const row of this.store.vectorsFrom(fromLabel)) {
      while (next < row.label) batch.push({ label: next++, vector: new Float32Array(dim) });
      batch.push({ label: next++, vector: row.vector });
      if (batch.length >= 4096) await flush();
    }
    while (next < this.store.nextLabel) batch.push({ label: next++, vector: new Float32Array(dim) });
    await flush();
    return next - fromLabel;
  }

  get appliedSeq(): string {
    return this.store.appliedSeq;
  }

  get size(): number {
    return this.store.documentCount;
  }

  get indexSize(): number {
    return this.index.size;
  }

  /** Applies log entries in order (serialised: one batch at a time). */
  apply(entries: readonly ApplyEntry[]): Promise<void> {
    const run = this.applying.then(async () => {
      const changes = this.store.applyBatch(entries);
      await this.index.add(changes.added);
      // Map new labels only once the index holds them, so a search never meets a label without a
      // vector. The batch itself says which id each label holds; a label it also tombstoned (the
      // same id upserted or deleted again later in the batch) is dead on arrival.
      const before = this.labels.length;
      const dead = new Set(changes.tombstoned);
      for (const { label, id } of changes.added) {
        this.labels[label] = dead.has(label) ? null : id;
        if (dead.has(label)) this.tombstones++;
      }
      for (const label of changes.tombstoned) {
        if (label < before && this.labels[label] !== null) {
          this.labels[label] = null;
          this.tombstones++;
        }
      }
      if (this.tombstones > COMPACT_MIN_TOMBSTONES && this.tombstones > this.index.size * COMPACT_RATIO)
        await this.compact();
    });
    this.applying = run.catch(() => undefined);
    return run;
  }

  /** Renumbers the live documents and rebuilds the index from their stored vectors. */
  async compact(): Promise<void> {
    this.store.compact();
    await this.index.reset();
    await this.addFromStore(0);
    this.labels = this.store.labelMap();
    this.tombstones = 0;
  }

  /**
   * The top k live documents for a query vector, optionally restricted to exact metadata matches.
   * Tombstones and filtered-out documents are skipped by over-fetching, doubling until k live
   * matches are found or the whole index was scanned.
   */
  async search(
    vector: Float32Array,
    k: number,
    filter?: Record<string, unknown>,
  ): Promise<{ hits: SearchHitDoc[]; timings: EngineTimings }> {
    const timings: EngineTimings = { searchMs: 0, metadataMs: 0 };
    const total = this.index.size;
    // HNSW explores max(efSearch, k) candidates and faiss-node cannot set efSearch (default 16),
    // so asking it for more neighbours is how recall is bought back on large HNSW indexes.
    const wanted = filter
      ? Math.max(k * 8, 64)
      : this.factory.startsWith('HNSW')
        ? Math.max(k * 4, HNSW_MIN_FETCH)
        : k;
    let fetch = Math.min(total, wanted + this.tombstones);
    for (;;) {
      let t = performance.now();
      const hits = await this.index.search(vector, fetch);
      timings.searchMs += performance.now() - t;
      t = performance.now();
      const live = hits.filter((h) => this.labels[h.label] != null);
      const docs = this.store.documentsByLabels(live.map((h) => h.label));
      const out: SearchHitDoc[] = [];
      for (const h of live) {
        const doc = docs.get(h.label);
        if (!doc || (filter && !matches(doc.metadata, filter))) continue;
        out.push({ doc, score: h.score });
      }
      // Equal scores are ordered by id, not by FAISS position: positions differ between nodes
      // after a compaction or a resync, and every node must give the same answer.
      out.sort((a, b) => b.score - a.score || (a.doc.id < b.doc.id ? -1 : a.doc.id > b.doc.id ? 1 : 0));
      timings.metadataMs += performance.now() - t;
      if (out.length >= k || fetch >= total) return { hits: out.slice(0, k), timings };
      fetch = Math.min(total, fetch * 2);
    }
  }

  /** Writes the index snapshot; the store records which generation and position it holds. */
  async snapshot(): Promise<void> {
    await this.applying;
    const path = join(this.dataDir, 'index.faiss');
    await this.index.snapshot(path);
    this.store.setState('snapshot_generation', this.store.generation);
    this.store.setState('snapshot_factory', this.factory);
    this.store.setState('snapshot_seq', this.store.appliedSeq);
  }

  /** Replaces this node's data with a peer's database file (resynchronisation), then reopens. */
  static removeSnapshot(dataDir: string): void {
    rmSync(join(dataDir, 'index.faiss'), { force: true });
  }

  async close(): Promise<void> {
    await this.applying;
    await this.index.close();
    this.store.close();
  }
}

function matches(metadata: Record<string, unknown>, filter: Record<string, unknown>): boolean {
  for (const [key, want] of Object.entries(filter)) if (metadata[key] !== want) return false;
  return true;
}
