/**
 * Reciprocal rank fusion of ranked lists: a document's score is the sum, over the lists that hold
 * it, of 1 / (k + rank) with ranks from 1. It needs no calibration between cosine similarities and
 * BM25 scores, which live on unrelated scales. Equal scores are ordered by id, so every node that
 * holds the same lists gives the same answer.
 */

/** The usual rank constant (Cormack et al.); larger values flatten the difference between ranks. */
export const DEFAULT_RRF_K = 60;

export function reciprocalRankFusion(
  lists: readonly (readonly { id: string }[])[],
  k: number = DEFAULT_RRF_K,
): { id: string; score: number }[] {
  const scores = new Map<string, number>();
  for (const list of lists)
    list.forEach(({ id }, i) => scores.set(id, (scores.get(id) ?? 0) + 1 / (k + i + 1)));
  return [...scores]
    .map(([id, score]) => ({ id, score }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
