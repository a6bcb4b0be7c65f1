/**
 * One generation of the searchable index: a FAISS index and the label → passage map that belongs
 * to it (a label is one passage of a document: its document id and its place in the document). A search runs wholly against one generation; compaction builds the next one
 * beside the current one (its own FAISS worker) and swaps them in one synchronous step, so no
 * search ever resolves labels of one numbering against an index of another.
 *
 * The old generation's FAISS worker is closed once the searches still running on it are done.
 */
import type { MetadataFilter } from '../shared/search-filter.ts';
import type { PassageSpan } from './embedder/passages.ts';
import type { MetadataStore, StoredDoc } from './metadata/store.ts';
import { bestPerDocument, type PassageScore, passageForTerms } from './passage-hits.ts';
import { VectorIndex } from './vector-index/index.ts';

export class IndexGeneration {
  private inflight = 0;
  private retired = false;

  constructor(
    readonly index: VectorIndex,
    /** Label → live document id; null for a tombstone (the document moved on or was deleted). */
    readonly labels: (string | null)[],
    /** Label → the passage's place among its document's passages (meaningless for a tombstone). */
    readonly ordinals: number[],
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

/**
 * Rows per page of a compaction's main-thread work. A page holds the event loop for as long as it
 * takes, and a search that arrives meanwhile waits for it: with 2,000 rows that was up to ~70 ms on
 * a busy 2-core machine, the whole p99 increase during a compaction (bench suite reorg).
 */
const PAGE = 500;

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
 * passages in label order take labels 0..n-1 in a fresh FAISS index. Every await lets searches and
 * /health run; the caller holds the apply chain, so the rows cannot change meanwhile. `labels`:
 * the old label of each new one, for renumberStore.
 */
export async function buildGeneration(
  store: MetadataStore,
  dimension: number,
  factory: string,
): Promise<{ generation: IndexGeneration; labels: number[] }> {
  const { index } = await VectorIndex.open({ dimension, factory });
  const ids: string[] = [];
  const ordinals: number[] = [];
  const labels: number[] = [];
  try {
    let after = -1;
    for (;;) {
      const started = performance.now();
      const rows = store.liveRowsAfter(after, PAGE);
      if (rows.length === 0) break;
      await index.add(rows.map((r, i) => ({ label: ids.length + i, vector: r.vector })));
      for (const r of rows) {
        ids.push(r.id);
        ordinals.push(r.ordinal);
        labels.push(r.label);
      }
      after = rows[rows.length - 1]!.label;
      await giveWay(started);
    }
  } catch (err) {
    await index.close();
    throw err;
  }
  return { generation: new IndexGeneration(index, ids, ordinals, 0), labels };
}

/**
 * Writes the new numbering to SQLite in small transactions (placeholders first, then the final
 * labels), yielding between them so the event loop keeps answering. The caller ends the compaction
 * (store.finishCompaction) in the same synchronous step as the swap. A crash part-way leaves `compacting` set; the next start renumbers in one go (store.compact()).
 */
export async function renumberStore(store: MetadataStore, labels: readonly number[]): Promise<void> {
  store.beginCompaction();
  for (const pass of ['placeholder', 'final'] as const) {
    for (let start = 0; start < labels.length; start += PAGE) {
      const started = performance.now();
      store.renumberChunk(labels.slice(start, start + PAGE), start, pass);
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
  /** The document's best passage: the one that scored (vector), or that holds most query terms. */
  passage: PassageSpan;
}

/**
 * Label hits → the first k live documents, one per document at its best passage's score,
 * synchronously (no apply can interleave). Dead labels are dropped in memory; with a filter,
 * SQLite says which candidates pass (doc_meta, without reading them), and only the documents
 * returned are read. `seen` learns how many live candidate documents there were and how many
 * passed, so a search that fell short can size its next fetch by the filter's pass rate.
 */
export function resolveHits(
  gen: IndexGeneration,
  store: MetadataStore,
  hits: readonly { label: number; score: number }[],
  k: number,
  filter?: MetadataFilter,
  seen?: { live: number; passed: number },
): SearchHitDoc[] {
  let live = bestPerDocument(
    hits.flatMap((h) => {
      const id = gen.labels[h.label];
      return id == null ? [] : [{ id, ordinal: gen.ordinals[h.label]!, score: h.score }];
    }),
  );
  if (filter) {
    const passing = store.keyword.passingIds(
      live.map((h) => h.id),
      filter,
    );
    if (seen) seen.live = live.length;
    live = live.filter((h) => passing.has(h.id));
    if (seen) seen.passed = live.length;
  }
  return withDocuments(store, live.slice(0, k));
}

/**
 * Ranked ids → ranked documents with their best passage (one read); an id no longer stored is
 * dropped. A document ranked without a passage (by its keywords) is shown with the passage that
 * holds most of `query`'s terms.
 */
export function withDocuments(
  store: MetadataStore,
  ranked: readonly (Omit<PassageScore, 'ordinal'> & { ordinal?: number })[],
  query = '',
): SearchHitDoc[] {
  const docs = store.documentsByIds(ranked.map((h) => h.id));
  const spans = store.spansOf(ranked.map((h) => h.id));
  return ranked.flatMap((h) => {
    const doc = docs.get(h.id);
    if (!doc) return [];
    const own = spans.get(h.id) ?? [];
    const passage =
      (h.ordinal !== undefined ? own[h.ordinal] : undefined) ?? passageForTerms(doc.text, own, query);
    return [{ doc, score: h.score, passage }];
  });
}

/**
 * How many passages to ask FAISS for so that `wanted` distinct live documents are likely among
 * them: tombstones are spread through the index, so scale by the live share, and a document has
 * as many labels as passages (the search doubles when it falls short).
 */
export function overFetch(gen: IndexGeneration, wanted: number, documents: number): number {
  const size = gen.index.size;
  const live = size - gen.tombstones;
  const liveShare = size === 0 ? 1 : Math.max(0.05, live / size);
  const perDocument = documents > 0 ? Math.max(1, live / documents) : 1;
  return Math.min(size, Math.ceil((wanted * perDocument) / liveShare) + 8);
}
