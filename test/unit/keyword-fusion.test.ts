/**
 * Weighted reciprocal rank fusion (keyword/fusion.ts): the keyword list's share decides whether
 * its first document, which the vector list does not hold, outranks one sitting mid-way in both.
 */
import { describe, expect, it } from 'vitest';
import { reciprocalRankFusion, relativeScoreFusion } from '../../worker-node/keyword/fusion.ts';

const list = (...ids: string[]) => ids.map((id) => ({ id }));
// "exact" is keyword's first and absent from the vector list; "middle" is third in both.
const vector = list('v1', 'v2', 'middle', 'v4');
const keyword = list('exact', 'k2', 'middle', 'k4');

describe('reciprocal rank fusion', () => {
  it("with equal weights, a document mid-way in both lists outranks one list's first", () => {
    const fused = reciprocalRankFusion([
      { hits: vector, weight: 0.5 },
      { hits: keyword, weight: 0.5 },
    ]);
    expect(fused[0]!.id).toBe('middle');
  });

  it("with relative scores, the keyword list's far-ahead first document comes first", () => {
    // BM25 puts the exact identifier far ahead; the near misses share only its parts.
    const scoredKeyword = [
      { id: 'exact', score: 30 },
      { id: 'k2', score: 12 },
      { id: 'middle', score: 11 },
      { id: 'k4', score: 10 },
    ];
    const scoredVector = [
      { id: 'v1', score: 0.62 },
      { id: 'v2', score: 0.61 },
      { id: 'middle', score: 0.6 },
      { id: 'v4', score: 0.5 },
    ];
    const w = 0.8; // a keyword-leaning share
    const fused = relativeScoreFusion([
      { hits: scoredVector, weight: 1 - w },
      { hits: scoredKeyword, weight: w },
    ]);
    expect(fused[0]!.id).toBe('exact');
    expect(fused[0]!.score).toBeCloseTo(w, 12);
    // Each list scaled to 0..1 between its lowest and highest, then weighted.
    const middle = fused.find((f) => f.id === 'middle')!.score;
    expect(middle).toBeCloseTo((1 - w) * (0.1 / 0.12) + w * (1 / 20), 12);
    // The same lists by reciprocal rank put the document mid-way in both first.
    const byRank = reciprocalRankFusion([
      { hits: scoredVector, weight: 0.5 },
      { hits: scoredKeyword, weight: 0.5 },
    ]);
    expect(byRank[0]!.id).toBe('middle');
    // A list of one score (or all equal) scales to 1; an empty list adds nothing.
    const single = relativeScoreFusion([
      { hits: [{ id: 'only', score: 3 }], weight: 0.4 },
      { hits: [], weight: 0.6 },
    ]);
    expect(single).toEqual([{ id: 'only', score: 0.4 }]);
  });

  it('scores the weighted sum of 1 / (k + rank), ties in id order', () => {
    const fused = reciprocalRankFusion(
      [
        { hits: list('b', 'a'), weight: 0.25 },
        { hits: list('a', 'b'), weight: 0.75 },
        { hits: list('d', 'c'), weight: 0.5 },
      ],
      10,
    );
    expect(fused[0]).toEqual({ id: 'a', score: 0.25 / 12 + 0.75 / 11 });
    expect(fused.find((f) => f.id === 'b')!.score).toBeCloseTo(0.25 / 11 + 0.75 / 12, 12);
    // A list of weight 0 adds nothing but its documents, last.
    const zero = reciprocalRankFusion([
      { hits: list('x'), weight: 0 },
      { hits: list('y', 'z'), weight: 1 },
    ]);
    expect(zero.map((f) => f.id)).toEqual(['y', 'z', 'x']);
  });
});
