/**
 * How a hybrid search fuses its keyword and vector lists, each list weighted (the keyword list by
 * `keyword_weight`, the vector list by the rest); a list that lacks a document adds nothing:
 *
 * - relative score fusion (the default; Weaviate's `relativeScoreFusion`): each list's scores are
 *   scaled to 0..1 between its lowest and its highest, then summed at the lists' weights. How far
 *   a document stands above the rest of its list counts, so an exact identifier that BM25 puts
 *   far ahead (and the word vectors cannot see) keeps its lead;
 * - reciprocal rank fusion (Cormack et al.): the sum of weight / (rrf_k + rank), ranks from 1;
 *   only ranks count, so a document mid-way in both lists outranks the first of one list.
 *
 * Equal scores are ordered by id, so every node that holds the same lists gives the same answer.
 */

/** The usual rank constant (Cormack et al.); larger values flatten the difference between ranks. */
export const DEFAULT_RRF_K = 60;

/**
 * The keyword list's share of a hybrid score (the vector list has the rest). 0.8 scored best on the
 * evaluation set's tuning split with keyword sections on (BENCHMARKS.md); with sections off (their
 * default, for throughput) an even share keeps a long document that only its vector passages find
 * in the results.
 */
export const DEFAULT_KEYWORD_WEIGHT = 0.5;

export type FusionMethod = 'relative' | 'rrf';
export const DEFAULT_FUSION: FusionMethod = 'relative';

export interface RankedList {
  /** Best first. */
  hits: readonly { id: string; score?: number }[];
  weight: number;
}

function byScoreThenId(a: { id: string; score: number }, b: { id: string; score: number }): number {
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Relative score fusion (see the file's comment); a list of one score, or all equal, scales to 1. */
export function relativeScoreFusion(lists: readonly RankedList[]): { id: string; score: number }[] {
  const scores = new Map<string, number>();
  for (const { hits, weight } of lists) {
    if (hits.length === 0) continue;
    const values = hits.map((h) => h.score ?? 0);
    const low = Math.min(...values);
    const span = Math.max(...values) - low;
    hits.forEach(({ id }, i) => {
      const scaled = span > 0 ? (values[i]! - low) / span : 1;
      scores.set(id, (scores.get(id) ?? 0) + weight * scaled);
    });
  }
  return [...scores].map(([id, score]) => ({ id, score })).sort(byScoreThenId);
}

export function reciprocalRankFusion(
  lists: readonly RankedList[],
  k: number = DEFAULT_RRF_K,
): { id: string; score: number }[] {
  const scores = new Map<string, number>();
  for (const { hits, weight } of lists)
    hits.forEach(({ id }, i) => scores.set(id, (scores.get(id) ?? 0) + weight / (k + i + 1)));
  return [...scores].map(([id, score]) => ({ id, score })).sort(byScoreThenId);
}
