/**
 * One generation of the searchable index: a FAISS index and the label → document id map that
 * belongs to it. A search runs wholly against one generation; compaction builds the next one
 * beside the current one (its own FAISS worker) and swaps them in one synchronous step, so no
 * search ever resolves labels of one numbering against an index of another.
 *
 * The old generation's FAISS worker is closed once the searches still running on it are done.
 */
import type { MetadataFilter } from '../shared/search-filter.ts';
import type { MetadataStore, StoredDoc } from './metadata/store.ts';
import { VectorIndex } from './vector-index/index.ts';

export class IndexGeneration {
  private inflight = 0;
  private retired = false;

  constructor(
    readonly index: VectorIndex,
    /** Label → live document id; null for a tombstone (the document moved on or was deleted). */
    readonly labels: (string | null)[],
    public tombstones: number,
  ) {}

  /** Runs a FAISS call on this generation, keeping it open until the call is done. */
  async use<T>(call: (index: VectorIndex) => Promise<T>): Promise<T> {
    this.inflight++;
    try {
      return await call(this.index);
    } finally {
      this.inflight--;
      if (this.retired && this.inflight === 0) void this.index.close();
    }
  }

  /** Hides a label at once: from here on no search maps it to a document. */
  tombstone(label: number): void {
    if (this.labels[label] == null) return;
    this.labels[label] = null;
    this.tombstones++;
  }

  /** The replacement took over: close the FAISS worker when the last search on it ends. */
  retire(): void {
    this.retired = true;
    if (this.inflight === 0) void this.index.close();
  }
}

const PAGE = 2000;

/**
 * Compaction gives way to searches: after each page it rests as long as the page took, so it holds
 * at most about half of one core (on 2 cores the FAISS search thread and the event loop need the
 * rest). It takes about twice as long; applies wait meanwhile, searches and /health do not.
 */
async function giveWay(startedAt: number): Promise<void> {
  const busy = performance.now() - startedAt;
  await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, busy))));
}

/**
 * Builds the next generation from the store, in pages, without renumbering anything yet: live
 * rows in label order take labels 0..n-1 in a fresh FAISS index. Every await lets searches and
 * /health run; the caller holds the apply chain, so the rows cannot change meanwhile.
 */
export async function buildGeneration(
  store: MetadataStore,
  dimension: number,
  factory: string,
): Promise<{ generation: IndexGeneration; ids: string[] }> {
  const { index } = await VectorIndex.open({ dimension, factory });
  const ids: string[] = [];
  try {
    let after = -1;
    for (;;) {
      const started = performance.now();
      const rows = store.liveRowsAfter(after, PAGE);
      if (rows.length === 0) break;
      await index.add(rows.map((r, i) => ({ label: ids.length + i, vector: r.vector })));
      for (const r of rows) ids.push(r.id);
      after = rows[rows.length - 1]!.label;
      await giveWay(started);
    }
  } catch (err) {
    await index.close();
    throw err;
  }
  return { generation: new IndexGeneration(index, [...ids], 0), ids };
}

/**
 * Writes the new numbering to SQLite in small transactions (placeholders first, then the final
 * labels), yielding between them so the event loop keeps answering. The caller ends the compaction
 * (store.finishCompaction) in the same synchronous step as the swap. A crash part-way leaves `compacting` set; the next start renumbers in one go (store.compact()).
 */
export async function renumberStore(store: MetadataStore, ids: readonly string[]): Promise<void> {
  store.beginCompaction();
  for (const pass of ['placeholder', 'final'] as const) {
    for (let start = 0; start < ids.length; start += PAGE) {
      const started = performance.now();
      store.renumberChunk(ids.slice(start, start + PAGE), start, pass);
      await giveWay(started);
    }
  }
}

/** Adds stored vectors from `fromLabel` on; labels with no live row get a zero vector (a tombstone). */
export async function addFromStore(
  store: MetadataStore,
  index: VectorIndex,
  fromLabel: number,
): Promise<number> {
  const dim = index.dimension;
  let next = fromLabel;
  let batch: { label: number; vector: Float32Array }[] = [];
  const flush = async () => {
    await index.add(batch);
    batch = [];
  };
  for (const row of store.vectorsFrom(fromLabel)) {
    while (next < row.label) batch.push({ label: next++, vector: new Float32Array(dim) });
    batch.push({ label: next++, vector: row.vector });
    if (batch.length >= 4096) await flush();
  }
  while (next < store.nextLabel) batch.push({ label: next++, vector: new Float32Array(dim) });
  await flush();
  return next - fromLabel;
}

export interface SearchHitDoc {
  doc: StoredDoc;
  score: number;
}

/**
 * Label hits → the first k live documents, synchronously (no apply can interleave). Dead labels
 * are dropped in memory; with a filter, SQLite says which candidates pass (doc_meta, without
 * reading them), and only the documents returned are read. `seen` learns how many live candidates
 * there were and how many passed, so a search that fell short can size its next fetch by the
 * filter's pass rate.
 */
export function resolveHits(
  gen: IndexGeneration,
  store: MetadataStore,
  hits: readonly { label: number; score: number }[],
  k: number,
  filter?: MetadataFilter,
  seen?: { live: number; passed: number },
): SearchHitDoc[] {
  let live = hits.flatMap((h) => {
    const id = gen.labels[h.label];
    return id == null ? [] : [{ id, score: h.score }];
  });
  if (filter) {
    const passing = store.keyword.passingIds(
      live.map((h) => h.id),
      filter,
    );
    if (seen) seen.live = live.length;
    live = live.filter((h) => passing.has(h.id));
    if (seen) seen.passed = live.length;
  }
  // Equal scores are ordered by id, not by FAISS position: positions differ between nodes
  // after a compaction or a resync, and every node must give the same answer.
  live.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return withDocuments(store, live.slice(0, k));
}

/** Ranked ids → ranked documents (one read); an id no longer stored is dropped. */
export function withDocuments(
  store: MetadataStore,
  ranked: readonly { id: string; score: number }[],
): SearchHitDoc[] {
  const docs = store.documentsByIds(ranked.map((h) => h.id));
  return ranked.flatMap((h) => {
    const doc = docs.get(h.id);
    return doc ? [{ doc, score: h.score }] : [];
  });
}

/**
 * How many neighbours to ask FAISS for so that `wanted` of them are likely live: tombstones are
 * spread through the index, so scale by the live share (the search doubles when it falls short).
 */
export function overFetch(gen: IndexGeneration, wanted: number): number {
  const size = gen.index.size;
  const liveShare = size === 0 ? 1 : Math.max(0.05, 1 - gen.tombstones / size);
  return Math.min(size, Math.ceil(wanted / liveShare) + 8);
}
