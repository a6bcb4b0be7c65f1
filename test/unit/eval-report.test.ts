import { describe, expect, it } from 'vitest';
import type { EvalQuery } from '../../scripts/corpus/eval-set.ts';
import {
  groupScores,
  heldOutVerdict,
  hybridMisses,
  type Rankings,
  scoresTable,
} from '../../scripts/eval/report.ts';

const q = (id: string, category: EvalQuery['category'], split: EvalQuery['split']): EvalQuery => ({
  id,
  query: id,
  lang: category === 'chinese' ? 'zh' : 'en',
  category,
  split,
  relevant: { [`${id}-doc`]: 1 },
});

describe('eval report', () => {
  const queries = [q('a', 'exact', 'heldout'), q('b', 'exact', 'heldout'), q('c', 'long', 'tuning')];
  const hit = (id: string) => [`${id}-doc`];
  const miss = ['other'];
  const rankings = new Map<string, Rankings>([
    ['a', { vector: miss, keyword: hit('a'), hybrid: hit('a') }],
    ['b', { vector: hit('b'), keyword: miss, hybrid: ['x', ...hit('b')] }],
    ['c', { vector: hit('c'), keyword: hit('c'), hybrid: hit('c') }],
  ]);
  const groups = groupScores(queries, rankings);

  it('averages each mode per split and category, and over all categories', () => {
    const exact = groups.find((g) => g.split === 'heldout' && g.category === 'exact')!;
    expect(exact.queries).toBe(2);
    expect(exact.byMode.keyword.recall5).toBe(0.5);
    expect(exact.byMode.hybrid.recall5).toBe(1);
    expect(exact.byMode.hybrid.mrr10).toBe(0.75);
    const all = groups.find((g) => g.split === 'heldout' && g.category === 'all')!;
    expect(all.queries).toBe(2);
    expect(groups.find((g) => g.split === 'tuning' && g.category === 'long')!.byMode.vector.ndcg10).toBe(1);
    // A category with no question scores 0 and says so.
    expect(groups.find((g) => g.split === 'tuning' && g.category === 'chinese')!.queries).toBe(0);
  });

  it('prints a row per category with the best mode in bold, and the held-out verdict', () => {
    const table = scoresTable(groups, 'heldout');
    expect(table).toContain('| exact | 2 | 0.500 | 0.500 | **1.000** | 0.500 | 0.500 | **0.750** |');
    expect(table.split('\n')).toHaveLength(2 + 5);
    const verdict = heldOutVerdict(groups);
    expect(verdict[0]).toBe('hybrid beats vector and keyword in recall@5: yes');
    expect(verdict).toContain('hybrid recall@5 ≥ 0.8 in long: no (0.000)');
  });

  it('counts where hybrid misses on the tuning split only, by which mode had the answer', () => {
    const tuning = [
      q('d', 'long', 'tuning'),
      q('e', 'long', 'tuning'),
      q('f', 'long', 'tuning'),
      q('g', 'long', 'heldout'),
    ];
    const r = new Map<string, Rankings>([
      ['d', { vector: miss, keyword: hit('d'), hybrid: ['1', '2', '3', '4', '5', ...hit('d')] }],
      ['e', { vector: miss, keyword: miss, hybrid: miss }],
      ['f', { vector: hit('f'), keyword: hit('f'), hybrid: hit('f') }],
      ['g', { vector: miss, keyword: miss, hybrid: miss }],
    ]);
    expect(hybridMisses(tuning, r)).toContain('| long | 3 | 2 | 1 | 0 | 0 | 1 |');
  });
});
