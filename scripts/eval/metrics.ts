/**
 * The retrieval measures the evaluation reports, per query and averaged: recall@k, MRR@k and
 * nDCG@k over graded relevance labels. Pure (ids in, numbers out), so the table in BENCHMARKS.md
 * rests on arithmetic that the unit tests check by hand.
 *
 * A ranking may name a document twice (a node answering with passages could): the repeat takes its
 * place among the first k, as the user sees it, but earns nothing, so a hit never counts twice.
 */

/** Relevance of each labelled document: grade ≥ 1 is relevant (2 = the answer, 1 = partly). */
export type Grades = Readonly<Record<string, number>>;

/** The first `k` places, a repeated id left as an empty place (`null`): it takes a slot, earns nothing. */
function firstPlaces(ranked: readonly string[], k: number): (string | null)[] {
  const seen = new Set<string>();
  return ranked.slice(0, k).map((id) => {
    if (seen.has(id)) return null;
    seen.add(id);
    return id;
  });
}

const relevantIds = (grades: Grades): string[] => Object.keys(grades).filter((id) => grades[id]! > 0);

/** The share of the relevant documents found among the first `k` results (0 when none is labelled). */
export function recallAt(grades: Grades, ranked: readonly string[], k: number): number {
  const relevant = relevantIds(grades);
  if (relevant.length === 0) return 0;
  const top = new Set(firstPlaces(ranked, k));
  return relevant.filter((id) => top.has(id)).length / relevant.length;
}

/** 1 / rank of the first relevant result within the first `k`, else 0. */
export function reciprocalRankAt(grades: Grades, ranked: readonly string[], k: number): number {
  const top = firstPlaces(ranked, k);
  const at = top.findIndex((id) => id !== null && (grades[id] ?? 0) > 0);
  return at < 0 ? 0 : 1 / (at + 1);
}

const gain = (grade: number): number => 2 ** grade - 1;
const discount = (rankFromOne: number): number => Math.log2(rankFromOne + 1);

/** DCG of the first `k` results over their ideal order: gain 2^grade − 1, discount log2(rank + 1). */
export function ndcgAt(grades: Grades, ranked: readonly string[], k: number): number {
  const dcg = firstPlaces(ranked, k).reduce(
    (sum, id, i) => sum + (id === null ? 0 : gain(Math.max(0, grades[id] ?? 0))) / discount(i + 1),
    0,
  );
  const ideal = Object.values(grades)
    .filter((g) => g > 0)
    .sort((a, b) => b - a)
    .slice(0, k)
    .reduce((sum, g, i) => sum + gain(g) / discount(i + 1), 0);
  return ideal === 0 ? 0 : dcg / ideal;
}

export interface QueryScores {
  recall5: number;
  mrr10: number;
  ndcg10: number;
}

/** The three numbers the evaluation reports for one query's ranking. */
export function scoreQuery(grades: Grades, ranked: readonly string[]): QueryScores {
  return {
    recall5: recallAt(grades, ranked, 5),
    mrr10: reciprocalRankAt(grades, ranked, 10),
    ndcg10: ndcgAt(grades, ranked, 10),
  };
}

/** The mean of each measure over `scores` (all 0 for none), with how many queries it covers. */
export function meanScores(scores: readonly QueryScores[]): QueryScores & { queries: number } {
  const n = scores.length;
  const mean = (f: (s: QueryScores) => number) => (n === 0 ? 0 : scores.reduce((a, s) => a + f(s), 0) / n);
  return {
    recall5: mean((s) => s.recall5),
    mrr10: mean((s) => s.mrr10),
    ndcg10: mean((s) => s.ndcg10),
    queries: n,
  };
}
