import { describe, expect, it } from 'vitest';
import { recallAtK } from '../../scripts/corpus/sample.ts';
import { meanScores, ndcgAt, reciprocalRankAt, recallAt, scoreQuery } from '../../scripts/eval/metrics.ts';

describe('recallAt', () => {
  it('is the share of relevant documents among the first k', () => {
    const grades = { a: 1, b: 1, c: 2 };
    expect(recallAt(grades, ['x', 'a', 'y', 'c', 'z', 'b'], 5)).toBeCloseTo(2 / 3, 12);
    expect(recallAt(grades, ['x', 'a', 'y', 'c', 'z', 'b'], 6)).toBe(1);
    expect(recallAt(grades, [], 5)).toBe(0);
  });

  it('ignores grade 0 labels; a repeated id takes a place but counts once', () => {
    expect(recallAt({ a: 1, b: 0 }, ['a'], 5)).toBe(1);
    expect(recallAt({ a: 1, b: 1 }, ['a', 'a', 'a', 'a', 'a', 'b'], 5)).toBe(0.5);
    expect(recallAt({}, ['a'], 5)).toBe(0);
  });

  it('is what the sample corpus reports as recall@k', () => {
    const queries = [
      { query: 'q1', lang: 'en' as const, relevant: ['a', 'b'] },
      { query: 'q2', lang: 'zh' as const, relevant: ['c'] },
    ];
    // q1 finds a of {a, b}: 0.5; q2 misses c in its top 2: 0.
    expect(
      recallAtK(
        queries,
        [
          ['a', 'x', 'b'],
          ['x', 'y', 'c'],
        ],
        2,
      ),
    ).toBeCloseTo(0.25, 12);
  });
});

describe('reciprocalRankAt', () => {
  it('is 1 / rank of the first relevant result, 0 past k', () => {
    expect(reciprocalRankAt({ a: 1 }, ['a', 'b'], 10)).toBe(1);
    expect(reciprocalRankAt({ b: 1, c: 1 }, ['a', 'b', 'c'], 10)).toBe(0.5);
    expect(reciprocalRankAt({ k: 1 }, ['a', 'b', 'c', 'd', 'k'], 4)).toBe(0);
    expect(reciprocalRankAt({ k: 1 }, ['a', 'b', 'c', 'd', 'k'], 5)).toBe(0.2);
  });

  it('counts a repeated id as a place', () => {
    // "a" twice: the relevant "b" is shown third.
    expect(reciprocalRankAt({ b: 1 }, ['a', 'a', 'b'], 10)).toBeCloseTo(1 / 3, 12);
    expect(reciprocalRankAt({ a: 1 }, ['a', 'a'], 10)).toBe(1);
  });
});

describe('ndcgAt', () => {
  it('is 1 for the ideal order and 0 with nothing relevant found', () => {
    expect(ndcgAt({ a: 2, b: 1 }, ['a', 'b', 'x'], 10)).toBe(1);
    expect(ndcgAt({ a: 2 }, ['x', 'y'], 10)).toBe(0);
    expect(ndcgAt({}, ['x'], 10)).toBe(0);
  });

  it('matches a hand computation with graded labels', () => {
    // Ranking x, b, a with a = 2, b = 1:
    //   DCG  = 0 + (2^1 - 1) / log2(3) + (2^2 - 1) / log2(4) = 0.63093 + 1.5 = 2.13093
    //   IDCG = 3 / log2(2) + 1 / log2(3)                      = 3 + 0.63093   = 3.63093
    expect(ndcgAt({ a: 2, b: 1 }, ['x', 'b', 'a'], 10)).toBeCloseTo(
      2.130929753571457 / 3.630929753571457,
      12,
    );
  });

  it('gives a repeated relevant id no second gain', () => {
    // a at ranks 1 and 2: DCG = 1 / log2(2) + 0 = IDCG.
    expect(ndcgAt({ a: 1 }, ['a', 'a'], 10)).toBe(1);
    // b behind a repeat of a: 1 + 1 / log2(4) over IDCG 1 / log2(2) + 1 / log2(3).
    expect(ndcgAt({ a: 1, b: 1 }, ['a', 'a', 'b'], 10)).toBeCloseTo((1 + 0.5) / (1 + 0.6309297535714575), 12);
  });

  it('cuts the ranking and the ideal at k', () => {
    // One relevant document at rank 2 of k = 10: 1 / log2(3).
    expect(ndcgAt({ a: 1 }, ['x', 'a'], 10)).toBeCloseTo(0.6309297535714575, 12);
    expect(ndcgAt({ a: 1 }, ['x', 'a'], 1)).toBe(0);
    // Three relevant, k = 2: the ideal holds two of them.
    expect(ndcgAt({ a: 1, b: 1, c: 1 }, ['a', 'b'], 2)).toBe(1);
  });
});

describe('scoreQuery and meanScores', () => {
  it('reports recall@5, MRR@10 and nDCG@10, averaged over queries', () => {
    const one = scoreQuery({ a: 1 }, ['a']);
    const two = scoreQuery({ a: 1 }, ['1', '2', '3', '4', '5', 'a']);
    expect(one).toEqual({ recall5: 1, mrr10: 1, ndcg10: 1 });
    expect(two.recall5).toBe(0);
    expect(two.mrr10).toBeCloseTo(1 / 6, 12);
    expect(two.ndcg10).toBeCloseTo(1 / Math.log2(7), 12);
    const mean = meanScores([one, two]);
    expect(mean.queries).toBe(2);
    expect(mean.recall5).toBe(0.5);
    expect(mean.mrr10).toBeCloseTo((1 + 1 / 6) / 2, 12);
    expect(meanScores([])).toEqual({ recall5: 0, mrr10: 0, ndcg10: 0, queries: 0 });
  });
});
