/**
 * One generation of the searchable index: a FAISS index and the label → passage map that belongs
 * to it (a label is one passage of a document: its document id and its place in the document). A search runs wholly against one generation; compaction builds the next one
 * beside the current one (its own FAISS worker) and swaps them in one synchronous step, so no
 * search ever resolves labels of one numbering against an index of another.
 *
 * The old generation's FAISS worker is handed back once the searches still running on it are
 * done: the engine empties it and keeps it as the thread the next compaction builds in, so no
 * compaction starts a thread (about 0.4 s of two threads' CPU) under the load it runs beside.
 */
import type { MetadataFilter } from '../shared/search-filter.ts';
import type { PassageSpan } from './embedder/passages.ts';
import type { LivePage } from './metadata/passage-labels.ts';
import type { MetadataStore, StoredDoc } from './metadata/store.ts';
import { bestPerDocument, type PassageScore, passageForTerms } from './passage-hits.ts';
import type { VectorIndex } from './vector-index/index.ts';

export class IndexGeneration {
  private inflight = 0;
  /** Set once the replacement took over: called with the index when its last search ends. */
  private onIdle: ((index: VectorIndex) => void) | null = null;
  private released = false;
  /**
   * Replaced, and no longer told what the log changed (the engine forwards the tombstones of the
   * generation that replaced it for as long as it can): a search holding labels of this
   * generation must ask the current one instead.
   */
  outdated = false;

  constructor(
    readonly index: VectorIndex,
    /** Label → live document id; null for a tombstone (the document moved on or was deleted). */
    readonly labels: (string | null)[],
    /** Label → the passage's place among its document's passages (meaningless for a tombstone). */
    readonly ordinals: number[],
    public tombstones: number,
  ) {}

  /**
   * Runs a FAISS call on this generation, keeping it open until the call is done. A replaced
   * generation's FAISS thread is handed back once idle (and may hold another index by then): a
   * call after that is refused.
   */
  async use<T>(call: (index: VectorIndex) => Promise<T>): Promise<T> {
    if (this.released) throw new Error('this index generation was replaced and its FAISS thread handed back');
    this.inflight++;
    try {
      return await call(this.index);
    } finally {
      this.inflight--;
      if (this.onIdle && this.inflight === 0) this.release();
    }
  }

  /** No FAISS call is running on this generation. */
  get idle(): boolean {
    return this.inflight === 0;
  }

  /** Hides a label at once: from here on no search maps it to a document. */
  tombstone(label: number): void {
    if (this.labels[label] == null) return;
    this.labels[label] = null;
    this.tombstones++;
  }

  /** The replacement took over: hand the FAISS worker to `onIdle` when the last search on it ends. */
  retire(onIdle: (index: VectorIndex) => void): void {
    this.onIdle = onIdle;
    if (this.inflight === 0) this.release();
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.onIdle!(this.index);
  }
}

/**
 * Passages per page of a compaction: one SQLite read (or one renumbering transaction) on the
 * reorganiser thread, one hand-off to the new FAISS index on the event loop.
 */
const PAGE = 1000;

/** Where a compaction reads its pages and writes its renumbering (metadata/reorganiser.ts). */
export interface CompactionSource {
  livePage(afterLabel: number, limit: number): Promise<LivePage>;
  renumber(labels: readonly number[], page: number): Promise<void>;
}

/**
 * Builds the next generation in `index` (empty; closed if the build fails), without renumbering
 * anything yet: live passages in label order take labels 0..n-1. The pages (labels and vectors)
 * are read off the event loop, the next one while the FAISS thread adds the current one; each
 * passage's document and ordinal come from `current`'s map, which the held apply chain keeps
 * equal to the store (SQLite is asked only for a label the map lacks, which would be a bug).
 * `labels`: the old label of each new one, for the renumbering.
 */
export async function buildGeneration(
  source: CompactionSource,
  index: VectorIndex,
  current: IndexGeneration,
  store: MetadataStore,
): Promise<{ generation: IndexGeneration; labels: number[] }> {
  const ids: string[] = [];
  const ordinals: number[] = [];
  const labels: number[] = [];
  try {
    if (index.size !== 0)
      throw new Error(`a generation is built in an empty index (this one holds ${index.size})`);
    let next = source.livePage(-1, PAGE);
    for (;;) {
      const page = await next;
      const count = page.labels.length;
      if (count === 0) break;
      next = source.livePage(page.labels[count - 1]!, PAGE);
      const adding = index.addBlock(page.vectors);
      const missing = page.labels.filter((label) => current.labels[label] == null);
      const fromStore = missing.length > 0 ? store.labels.identities(missing) : null;
      for (const label of page.labels) {
        const known = current.labels[label];
        const identity =
          known != null ? { id: known, ordinal: current.ordinals[label]! } : fromStore!.get(label);
        if (!identity) throw new Error(`label ${label} was read from the store but is not in it any more`);
        ids.push(identity.id);
        ordinals.push(identity.ordinal);
        labels.push(label);
      }
      await adding;
    }
  } catch (err) {
    await index.close();
    throw err;
  }
  return { generation: new IndexGeneration(index, ids, ordinals, 0), labels };
}

/**
 * Writes the new numbering to SQLite (placeholders first, then the final labels), in
 * transactions of a page each, on the reorganiser thread. The caller ends the compaction
 * (store.finishCompaction) in the same synchronous step as the swap. A crash part-way leaves
 * `compacting` set; the next start renumbers in one go (store.compact()).
 */
export function renumberStore(source: CompactionSource, labels: readonly number[]): Promise<void> {
  return source.renumber(labels, PAGE);
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
 * SQLite says which candidates pass (doc_meta, without reading them). Nothing is read: the caller
 * reads only the documents it returns (withDocuments). `seen` learns how many live candidate
 * documents there were and how many passed, so a search that fell short can size its next fetch
 * by the filter's pass rate.
 */
export function resolveHits(
  gen: IndexGeneration,
  store: MetadataStore,
  hits: readonly { label: number; score: number }[],
  k: number,
  filter?: MetadataFilter,
  seen?: { live: number; passed: number },
): PassageScore[] {
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
  return live.slice(0, k);
}

/**
 * Ranked ids → the first `limit` of them as documents with their best passage; an id no longer
 * stored, or (given `filter`) no longer passing it, is dropped and the next one read in its place:
 * a keyword ranking is made on another connection's snapshot, and the documents served are those
 * SQLite holds now. Only the documents returned are read. A document ranked without a passage (by
 * its keywords) is shown with the passage that holds most of `query`'s terms.
 */
export function withDocuments(
  store: MetadataStore,
  ranked: readonly (Omit<PassageScore, 'ordinal'> & { ordinal?: number })[],
  query = '',
  limit = ranked.length,
  filter?: MetadataFilter,
): SearchHitDoc[] {
  const out: SearchHitDoc[] = [];
  let from = 0;
  while (out.length < limit && from < ranked.length) {
    let slice = ranked.slice(from, from + limit - out.length);
    from += slice.length;
    if (filter) {
      const passing = store.keyword.passingIds(
        slice.map((h) => h.id),
        filter,
      );
      slice = slice.filter((h) => passing.has(h.id));
    }
    const docs = store.documentsByIds(slice.map((h) => h.id));
    const spans = store.spansOf(slice.filter((h) => docs.has(h.id)).map((h) => h.id));
    for (const h of slice) {
      const doc = docs.get(h.id);
      if (!doc) continue;
      const own = spans.get(h.id) ?? [];
      const passage =
        (h.ordinal !== undefined ? own[h.ordinal] : undefined) ?? passageForTerms(doc.text, own, query);
      out.push({ doc, score: h.score, passage });
    }
  }
  return out;
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
