/**
 * How a search finds its documents, per mode (shared/schemas.ts SearchMode says what each score
 * means):
 *
 * - `vector`: FAISS nearest passages of one index generation, labels resolved through that
 *   generation's map (index-generation.ts), one result per document, scored by its best passage
 *   (the cosine similarity);
 * - `keyword`: BM25 over the FTS5 index in SQLite (metadata/keyword-tables.ts);
 * - `hybrid`: both lists, fused by their relative scores or by reciprocal rank (keyword/fusion.ts).
 *
 * A selective filter is a pre-filter: SQLite lists the matching documents (doc_meta, indexed) and
 * the stored vectors of all their passages are scored, exactly, in JS; FAISS is not asked at all. A filter that
 * matches many documents is a post-filter over FAISS candidates instead, fetched in proportion to
 * its pass rate. The keyword ranking runs beside the FAISS call, off the main thread when the source
 * has a reader for it (metadata/keyword-reader.ts); everything after the last answer (resolving
 * labels, the fusion, reading documents) runs in one synchronous step, so the documents served are
 * those SQLite holds at that moment.
 */
import type { SearchMode } from '../shared/schemas.ts';
import type { MetadataFilter } from '../shared/search-filter.ts';
import type { QueryExpansion } from './keyword/expansion.ts';
import {
  DEFAULT_FUSION,
  DEFAULT_KEYWORD_WEIGHT,
  DEFAULT_RRF_K,
  type FusionMethod,
  reciprocalRankFusion,
  relativeScoreFusion,
} from './keyword/fusion.ts';
import {
  type IndexGeneration,
  overFetch,
  resolveHits,
  type SearchHitDoc,
  withDocuments,
} from './index-generation.ts';
import type { KeywordSearchOptions, RankedId } from './metadata/keyword-tables.ts';
import type { MetadataStore } from './metadata/store.ts';
import { bestPerDocument, type PassageScore } from './passage-hits.ts';

export interface SearchOptions {
  /** Default `vector` here; the request's default (`hybrid`) is applied by its schema. */
  mode?: SearchMode;
  /** The query's text: what the keyword index is searched for (keyword and hybrid modes). */
  text?: string;
  /** Hybrid: how the two lists are fused (keyword/fusion.ts). */
  fusion?: FusionMethod;
  /** Hybrid, `rrf` fusion: the rank constant. */
  rrfK?: number;
  /** Hybrid: the keyword list's share of the fused score, from 0 to 1 (the vector list has the rest). */
  keywordWeight?: number;
  /** Keyword and hybrid: the query words' neighbours, scored below its own words (keyword/expansion.ts). */
  expansion?: QueryExpansion | null;
  /** Keyword and hybrid: how much a document's best keyword section counts beside its whole text. */
  sectionWeight?: number;
}

export interface RetrievalTimings {
  searchMs: number;
  metadataMs: number;
}

/** A filter matching at most this many documents is a pre-filter (exact scores over them). */
export const PREFILTER_MAX_MATCHES = 2000;
/** How deep each list of a hybrid search goes before fusion. */
const HYBRID_DEPTH = 50;
const HNSW_MIN_FETCH = 64;

export interface RetrievalSource {
  store: MetadataStore;
  factory: string;
  /** The current generation (it changes when a compaction swaps one in). */
  generation(): IndexGeneration;
  /** BM25 ranking off the main thread; absent: `store.keyword.search` on the main connection. */
  keywordSearch?(
    text: string,
    limit: number,
    filter: MetadataFilter | undefined,
    options: KeywordSearchOptions,
  ): Promise<RankedId[]>;
}

function keywordRanking(
  src: RetrievalSource,
  text: string,
  limit: number,
  filter: MetadataFilter | undefined,
  { expansion, sectionWeight }: KeywordSearchOptions,
) {
  const options = { expansion, sectionWeight };
  if (src.keywordSearch) return src.keywordSearch(text, limit, filter, options);
  return Promise.resolve(src.store.keyword.search(text, limit, filter, options));
}

function dot(a: Float32Array, blob: Buffer): number {
  const b = new Float32Array(blob.byteLength / 4);
  new Uint8Array(b.buffer).set(blob);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** The pre-filter: every passage of the matching documents, scored exactly; each document at its best. */
function exactScores(store: MetadataStore, vector: Float32Array, depth: number, filter: MetadataFilter) {
  const scored = bestPerDocument(
    store.keyword
      .matchingVectors(filter)
      .map((row) => ({ id: row.id, ordinal: row.ordinal, score: dot(vector, row.vector) })),
  );
  return scored.slice(0, depth);
}

/**
 * The vector list, best passage per document (and whatever `finish` makes of it, reading the
 * documents it returns, in the same synchronous step).
 */
async function vectorSearch<T>(
  src: RetrievalSource,
  vector: Float32Array,
  depth: number,
  filter: MetadataFilter | undefined,
  timings: RetrievalTimings,
  /** Work running alongside (the keyword ranking): awaited before `finish`, in the same step. */
  alongside: Promise<unknown> | null,
  finish: (hits: PassageScore[]) => T,
): Promise<T> {
  let t = performance.now();
  if (filter && src.store.keyword.matchBound(filter, PREFILTER_MAX_MATCHES + 1) <= PREFILTER_MAX_MATCHES) {
    await alongside;
    t = performance.now();
    const out = finish(exactScores(src.store, vector, depth, filter));
    timings.metadataMs += performance.now() - t;
    return out;
  }
  timings.metadataMs += performance.now() - t;
  // HNSW explores max(efSearch, k) candidates: asking for at least HNSW_MIN_FETCH neighbours keeps
  // recall up even where HNSW_EF_SEARCH was set low.
  const wanted = filter
    ? Math.max(depth * 8, 64)
    : src.factory.startsWith('HNSW')
      ? Math.max(depth * 4, HNSW_MIN_FETCH)
      : depth;
  let gen = src.generation();
  let fetch = overFetch(gen, wanted, src.store.documentCount);
  for (;;) {
    t = performance.now();
    // The size this fetch is asked of (a replaced generation's index is emptied once idle).
    const total = gen.index.size;
    const hits = await gen.use((index) => index.search(vector, fetch));
    timings.searchMs += performance.now() - t;
    t = performance.now();
    await alongside;
    timings.metadataMs += performance.now() - t;
    if (gen !== src.generation() && gen.outdated) {
      // A compaction swapped generations while FAISS answered, and the log moved on in a way the
      // old generation's map could not follow (IndexGeneration.outdated). Ask the new one.
      gen = src.generation();
      fetch = overFetch(gen, wanted, src.store.documentCount);
      continue;
    }
    t = performance.now();
    const seen = { live: 0, passed: 0 };
    const out = resolveHits(gen, src.store, hits, depth, filter, seen);
    if (out.length >= depth || fetch >= total) {
      const result = finish(out);
      timings.metadataMs += performance.now() - t;
      return result;
    }
    timings.metadataMs += performance.now() - t;
    // Short of matches: fetch as many more as the pass rate seen so far says are needed, from
    // the current generation (one replaced meanwhile is done with once its searches are).
    const passRate = Math.max(seen.passed, 1) / Math.max(seen.live, 1);
    const grown = Math.max(fetch * 2, Math.ceil((depth / passRate) * 1.5));
    if (gen !== src.generation()) {
      gen = src.generation();
      fetch = Math.max(grown, overFetch(gen, wanted, src.store.documentCount));
    } else fetch = grown;
    fetch = Math.min(gen.index.size, fetch);
  }
}

/** The top k documents for a query in the given mode (see the file's comment). */
export async function retrieve(
  src: RetrievalSource,
  vector: Float32Array | null,
  k: number,
  filter: MetadataFilter | undefined,
  options: SearchOptions,
): Promise<{ hits: SearchHitDoc[]; timings: RetrievalTimings }> {
  const timings: RetrievalTimings = { searchMs: 0, metadataMs: 0 };
  const mode = options.mode ?? 'vector';
  const text = options.text ?? '';
  if (mode === 'keyword') {
    const t = performance.now();
    const ranked = await keywordRanking(src, text, k, filter, options);
    const hits = withDocuments(src.store, ranked, text, k, filter);
    timings.metadataMs += performance.now() - t;
    return { hits, timings };
  }
  if (!vector) throw new Error(`a ${mode} search needs the query's vector`);
  if (mode === 'vector') {
    const hits = await vectorSearch(src, vector, k, filter, timings, null, (h) =>
      withDocuments(src.store, h, '', k),
    );
    return { hits, timings };
  }
  const depth = Math.max(k, HYBRID_DEPTH);
  let keywordHits: RankedId[] = [];
  const ranking = keywordRanking(src, text, depth, filter, options).then((ranked) => {
    keywordHits = ranked;
  });
  // Awaited before the fusion; a vector search that fails first must not leave it unhandled.
  ranking.catch(() => undefined);
  const hits = await vectorSearch(src, vector, depth, filter, timings, ranking, (vectorHits) => {
    const keywordWeight = options.keywordWeight ?? DEFAULT_KEYWORD_WEIGHT;
    const lists = [
      { hits: vectorHits.map((h) => ({ id: h.id, score: h.score })), weight: 1 - keywordWeight },
      { hits: keywordHits, weight: keywordWeight },
    ];
    const fused =
      (options.fusion ?? DEFAULT_FUSION) === 'rrf'
        ? reciprocalRankFusion(lists, options.rrfK ?? DEFAULT_RRF_K)
        : relativeScoreFusion(lists);
    // A document the vector list found is shown with the passage that scored; others by their terms.
    const ordinals = new Map(vectorHits.map((h) => [h.id, h.ordinal]));
    return withDocuments(
      src.store,
      fused.map((f) => ({ id: f.id, score: f.score, ordinal: ordinals.get(f.id) })),
      text,
      k,
      filter,
    );
  });
  return { hits, timings };
}
