/**
 * The searchable state of one node: the SQLite store (truth) plus the FAISS index (cache) plus
 * the label → passage map, kept in step. A document is indexed as passages, one FAISS label each.
 * Every change arrives through `apply`, whether the node is master or standby, so all nodes hold
 * the same documents at the same log position.
 *
 * Why a search can trust what it returns: labels are resolved to document ids through the
 * in-memory map of the generation the FAISS call ran on (index-generation.ts), every old label of
 * a changed or deleted document is hidden in the same synchronous step that commits the change to
 * SQLite, and a search whose generation was swapped out while FAISS answered runs again on the new
 * one. So every hit's score is one of that document's stored passage vectors against the query,
 * and its text is that document's.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MetadataFilter } from '../shared/search-filter.ts';
import {
  addFromStore,
  buildGeneration,
  IndexGeneration,
  renumberStore,
  type SearchHitDoc,
} from './index-generation.ts';
import { KeywordReader } from './metadata/keyword-reader.ts';
import { Reorganiser } from './metadata/reorganiser.ts';
import { MetadataStore, type ApplyEntry, type ModelIdentity } from './metadata/store.ts';
import { retrieve, type RetrievalTimings, type SearchOptions } from './retrieval.ts';
import { writeFileAtomic } from './util/atomic-file.ts';
import { type PartHealth, Supervisor } from './util/supervisor.ts';
import { IndexUnavailableError } from './vector-index/errors.ts';
import { VectorIndex } from './vector-index/index.ts';

export type { SearchHitDoc, SearchOptions };

export type EngineTimings = RetrievalTimings;

export interface CompactionPolicy {
  /** Compact once tombstones exceed this share of the index... */
  ratio: number;
  /** ...and this absolute floor. */
  minTombstones: number;
}

/**
 * The defaults, each node scaled by a random factor in [1, 1.5): nodes that started together
 * would otherwise reach the threshold at the same log entry and all compact at once.
 */
function defaultPolicy(): CompactionPolicy {
  const jitter = 1 + Math.random() * 0.5;
  return { ratio: 0.25 * jitter, minTombstones: Math.round(1000 * jitter) };
}

/** Documents per keyword-build transaction: small, since one document may hold 100,000 characters. */
const KEYWORD_BUILD_PAGE = 256;

/**
 * Fills the keyword tables of a data directory from before them, a page per transaction with a
 * yield between pages (the node is not serving yet, but its /health answers meanwhile).
 */
async function buildKeywordIndex(
  store: MetadataStore,
  onLog?: (event: string, f: Record<string, unknown>) => void,
): Promise<void> {
  if (store.keyword.ready) return;
  const started = Date.now();
  while (store.keyword.buildPage(KEYWORD_BUILD_PAGE)) await new Promise((r) => setImmediate(r));
  onLog?.('keyword_index.built', { documents: store.documentCount, ms: Date.now() - started });
}

export class SearchEngine {
  private applying: Promise<unknown> = Promise.resolve();
  /** `generation:applied_seq` of the last snapshot written or loaded; a snapshot is skipped when unchanged. */
  private snapshotMark: string | null = null;
  /** The snapshot being written, if any: a second caller (and close) waits for it. */
  private snapshotRun: Promise<boolean> | null = null;
  /** A dead FAISS worker is replaced by a generation rebuilt from SQLite (the truth). */
  private readonly supervisor: Supervisor;
  /** Keyword rankings run here, off the event loop (metadata/keyword-reader.ts). */
  private readonly keywordReader: KeywordReader;
  /** Compaction pages and renumbering, and Flat snapshot files, off the event loop (metadata/reorganiser.ts). */
  private readonly reorganiser: Reorganiser;
  /**
   * An empty FAISS thread for the next compaction (or FAISS restart) to build in: started with the
   * engine, and after a compaction the old generation's thread, emptied. Null while none is ready.
   */
  private spare: Promise<VectorIndex> | null = null;
  /**
   * The generation the last compaction replaced, and the old label of each new one: searches
   * that were on it at the swap finish on it (no second FAISS call), so the tombstones of the
   * writes applied meanwhile are forwarded to it (forwardTombstones).
   */
  private replaced: { gen: IndexGeneration; oldLabelOf: readonly number[] } | null = null;
  private closed = false;

  private constructor(
    readonly store: MetadataStore,
    private gen: IndexGeneration,
    private readonly dataDir: string,
    readonly factory: string,
    private readonly policy: CompactionPolicy,
    onLog: (event: string, f: Record<string, unknown>) => void,
    keywordReaders: number,
  ) {
    this.supervisor = new Supervisor('index', () => this.serialised(() => this.rebuild()), onLog);
    this.keywordReader = KeywordReader.open(
      store.path,
      store.keyword,
      () => store.documentCount,
      keywordReaders,
    );
    this.reorganiser = new Reorganiser(store.path);
    this.watch(gen);
    this.keepSpare(VectorIndex.open({ dimension: gen.index.dimension, factory }).then((r) => r.index));
  }

  /** Holds `index` as the spare thread; one that dies or fails to start is dropped. */
  private keepSpare(index: Promise<VectorIndex>): void {
    this.spare = index;
    index.then(
      (ready) => {
        ready.onDeath = () => {
          if (this.spare === index) this.spare = null;
        };
        if (this.closed) void ready.close();
      },
      () => {
        if (this.spare === index) this.spare = null;
      },
    );
  }

  /** An old generation's FAISS thread, idle: emptied and kept as the spare, or closed if one is kept. */
  private recycle(index: VectorIndex): void {
    if (this.closed || this.spare) {
      void index.close();
      return;
    }
    this.keepSpare(
      index.reset().then(
        () => index,
        async (err: unknown) => {
          await index.close();
          throw err;
        },
      ),
    );
  }

  /** The empty index a new generation is built in: the spare, or a thread started now. */
  private async emptyIndex(): Promise<VectorIndex> {
    const spare = this.spare;
    this.spare = null;
    const ready = await spare?.catch(() => null);
    if (ready) return ready;
    return (await VectorIndex.open({ dimension: this.gen.index.dimension, factory: this.factory })).index;
  }

  private watch(gen: IndexGeneration): void {
    gen.index.onDeath = (err) => {
      if (gen === this.gen) this.supervisor.crashed(err);
    };
  }

  /** `restarting` while a dead FAISS worker is being replaced; searches answer 503 meanwhile. */
  health(): PartHealth {
    return this.supervisor.health;
  }

  /** Fault injection: kill the FAISS worker of the current generation. */
  crashIndex(): void {
    this.gen.index.crash();
  }

  /**
   * Opens the data directory: SQLite first, then the index snapshot if it belongs to the same
   * label generation, topped up with any vectors applied after it was written; otherwise the
   * index is rebuilt from the stored vectors (after a compaction, so labels are dense).
   */
  static async open(opts: {
    dataDir: string;
    model: ModelIdentity;
    factory: string;
    compaction?: CompactionPolicy;
    onLog?: (event: string, f: Record<string, unknown>) => void;
    /** Keyword reader threads (metadata/keyword-reader.ts); default 1. */
    keywordReaders?: number;
  }) {
    const store = new MetadataStore(join(opts.dataDir, 'metadata.sqlite'));
    store.bindModel(opts.model);
    const snapshotPath = join(opts.dataDir, 'index.faiss');
    const usable =
      existsSync(snapshotPath) &&
      !store.compactionInterrupted &&
      store.getState('snapshot_generation') === String(store.generation) &&
      store.getState('snapshot_factory') === opts.factory;
    const started = Date.now();
    const { index, fromSnapshot } = await VectorIndex.open({
      dimension: opts.model.dimension,
      factory: opts.factory,
      snapshotPath: usable ? snapshotPath : undefined,
    });
    if (!fromSnapshot || index.size > store.nextLabel) {
      await index.reset();
      store.compact();
    }
    const toppedUp = await addFromStore(store, index, index.size);
    await buildKeywordIndex(store, opts.onLog);
    const { ids, ordinals } = store.passageMap();
    const gen = new IndexGeneration(index, ids, ordinals, ids.filter((l) => l === null).length);
    const engine = new SearchEngine(
      store,
      gen,
      opts.dataDir,
      opts.factory,
      opts.compaction ?? defaultPolicy(),
      opts.onLog ?? (() => {}),
      opts.keywordReaders ?? 1,
    );
    if (fromSnapshot && toppedUp === 0) engine.snapshotMark = engine.currentMark();
    opts.onLog?.('index.loaded', {
      from_snapshot: fromSnapshot,
      size: index.size,
      added_from_store: toppedUp,
      documents: store.documentCount,
      ms: Date.now() - started,
    });
    return engine;
  }

  get appliedSeq(): string {
    return this.store.appliedSeq;
  }

  get size(): number {
    return this.store.documentCount;
  }

  get indexSize(): number {
    return this.gen.index.size;
  }

  /** Runs `task` after every apply, compaction and snapshot step queued before it. */
  private serialised<T>(task: () => Promise<T>): Promise<T> {
    const run = this.applying.then(task);
    this.applying = run.catch(() => undefined);
    return run;
  }

  /** Applies log entries in order (serialised: one batch at a time). */
  apply(entries: readonly ApplyEntry[]): Promise<void> {
    return this.serialised(async () => {
      const gen = this.gen;
      const changes = this.store.applyBatch(entries);
      // Same synchronous step as the commit: no search can pair an old label with the new row.
      const dead = new Set(changes.tombstoned);
      for (const label of changes.tombstoned) gen.tombstone(label);
      this.forwardTombstones(changes.tombstoned);
      await gen.index.add(changes.added);
      // Map new labels only once the index holds them, so a search never meets a label without a
      // vector. A label the batch also tombstoned (the same id written again later in the batch)
      // is dead on arrival.
      for (const { label, id, ordinal } of changes.added) {
        gen.labels[label] = dead.has(label) ? null : id;
        gen.ordinals[label] = ordinal;
        if (dead.has(label)) gen.tombstones++;
      }
      const { ratio, minTombstones } = this.policy;
      if (gen.tombstones > minTombstones && gen.tombstones > gen.index.size * ratio) await this.rebuild();
    });
  }

  /**
   * Hides the passages a write replaced in the generation the last compaction replaced too, in
   * the same synchronous step as the commit, so a search still finishing on it never serves them.
   * Once nothing runs on that generation any more it is let go: marked outdated (a search that
   * still holds its labels asks again), and its maps freed.
   */
  private forwardTombstones(labels: readonly number[]): void {
    const replaced = this.replaced;
    if (!replaced || labels.length === 0) return;
    if (replaced.gen.idle) {
      replaced.gen.outdated = true;
      this.replaced = null;
      return;
    }
    for (const label of labels) {
      const old = replaced.oldLabelOf[label];
      if (old !== undefined) replaced.gen.tombstone(old);
    }
  }

  /** Renumbers the live passages and rebuilds the index from their stored vectors. */
  compact(): Promise<void> {
    return this.serialised(() => this.rebuild());
  }

  /**
   * Builds the next generation beside the current one while searches go on, then swaps. Runs on
   * the apply chain: entries that arrive meanwhile wait (replication lags for the duration), but
   * searches and /health never do. The SQLite work is the reorganiser thread's; the event loop
   * only hands pages to the new FAISS thread and swaps.
   */
  private async rebuild(): Promise<void> {
    const { generation, labels } = await buildGeneration(
      this.reorganiser,
      await this.emptyIndex(),
      this.gen,
      this.store,
    );
    await renumberStore(this.reorganiser, labels);
    const old = this.gen;
    this.store.finishCompaction(labels.length);
    this.gen = generation;
    // Tombstones are forwarded one generation back only.
    if (this.replaced) this.replaced.gen.outdated = true;
    this.replaced = { gen: old, oldLabelOf: labels };
    this.watch(generation);
    old.retire((index) => this.recycle(index));
  }

  /**
   * The top k live documents for a query (retrieval.ts): by its vector (the default mode here),
   * its keyword text, or both fused; optionally restricted by a metadata filter. A FAISS worker
   * being replaced makes vector and hybrid searches answer 503; keyword searches need no FAISS.
   */
  async search(
    vector: Float32Array | null,
    k: number,
    filter?: MetadataFilter,
    options: SearchOptions = {},
  ): Promise<{ hits: SearchHitDoc[]; timings: EngineTimings }> {
    const health = this.supervisor.health;
    if (options.mode !== 'keyword' && health.state !== 'ok')
      throw new IndexUnavailableError(
        `the FAISS worker died (${health.last_error}); the index is being rebuilt from SQLite, retry on another node`,
      );
    const reader = this.keywordReader;
    return retrieve(
      {
        store: this.store,
        factory: this.factory,
        generation: () => this.gen,
        keywordSearch: (text, limit, f, o) => reader.search(text, limit, f, o),
      },
      vector,
      k,
      filter,
      options,
    );
  }

  private currentMark(): string {
    return `${this.store.generation}:${this.store.appliedSeq}`;
  }

  /**
   * Writes the index snapshot, unless nothing changed since the last one; returns whether one was
   * written. A call while one is being written waits for it, then writes again if needed.
   */
  snapshot(): Promise<boolean> {
    const previous = this.snapshotRun ?? Promise.resolve(false);
    const run = previous.catch(() => false).then(() => this.writeSnapshot());
    this.snapshotRun = run;
    return run.finally(() => {
      if (this.snapshotRun === run) this.snapshotRun = null;
    });
  }

  /**
   * A Flat index is written from SQLite's vectors on the reorganiser thread (flat-snapshot.ts), so
   * neither the FAISS thread nor the event loop pauses its searches for it. Any other index
   * (HNSW: a graph SQLite does not hold) is copied into memory by the FAISS thread, on the apply
   * chain so it matches the applied position (searches wait for that copy, not for the disk).
   * Either file is written atomically.
   */
  private async writeSnapshot(): Promise<boolean> {
    const mark = this.currentMark();
    if (mark === this.snapshotMark) return false;
    const path = join(this.dataDir, 'index.faiss');
    const seq = this.store.appliedSeq;
    let generation: number;
    if (this.factory === 'Flat') {
      const written = await this.reorganiser.flatSnapshot(
        path,
        this.gen.index.dimension,
        this.store.nextLabel,
      );
      if (!written) return false; // a compaction renumbered the labels meanwhile: next time
      generation = written.generation;
    } else {
      const taken = await this.serialised(async () => ({
        bytes: (await this.gen.index.serialize()).bytes,
        generation: this.store.generation,
      }));
      await writeFileAtomic(path, taken.bytes);
      generation = taken.generation;
    }
    this.store.setState('snapshot_generation', generation);
    this.store.setState('snapshot_factory', this.factory);
    this.store.setState('snapshot_seq', seq);
    this.snapshotMark = mark;
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.supervisor.close();
    await this.snapshotRun?.catch(() => undefined);
    await this.applying;
    await this.gen.index.close();
    await this.keywordReader.close();
    await this.reorganiser.close();
    await (await this.spare?.catch(() => null))?.close();
    this.store.close();
  }
}
