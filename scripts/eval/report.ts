/**
 * The evaluation's table: per split (tuning, held-out) and category, recall@5, MRR@10 and nDCG@10
 * of each search mode side by side. Pure: rankings and labels in, markdown out, so what lands in
 * BENCHMARKS.md is exactly what the unit-tested measures computed.
 */
import { EVAL_CATEGORIES, type EvalQuery, type EvalSplit } from '../corpus/eval-set.ts';
import { markdownTable } from '../bench/stats.ts';
import { meanScores, type QueryScores, recallAt, scoreQuery } from './metrics.ts';

export const EVAL_MODES = ['vector', 'keyword', 'hybrid'] as const;
export type EvalMode = (typeof EVAL_MODES)[number];

/** The ids each mode ranked for a question (best first). */
export type Rankings = Record<EvalMode, string[]>;

export interface GroupScores {
  split: EvalSplit;
  category: string;
  queries: number;
  byMode: Record<EvalMode, QueryScores>;
}

/** Mean scores per split × (each category, then `all`), for every mode. */
export function groupScores(
  queries: readonly EvalQuery[],
  rankings: ReadonlyMap<string, Rankings>,
): GroupScores[] {
  const out: GroupScores[] = [];
  for (const split of ['tuning', 'heldout'] as const)
    for (const category of [...EVAL_CATEGORIES, 'all']) {
      const qs = queries.filter((q) => q.split === split && (category === 'all' || q.category === category));
      const byMode = Object.fromEntries(
        EVAL_MODES.map((mode) => {
          const scores = qs.map((q) => scoreQuery(q.relevant, rankings.get(q.id)?.[mode] ?? []));
          const { queries: _, ...mean } = meanScores(scores);
          return [mode, mean];
        }),
      ) as Record<EvalMode, QueryScores>;
      out.push({ split, category, queries: qs.length, byMode });
    }
  return out;
}

const f3 = (x: number) => x.toFixed(3);

/** One markdown table per split; the best mode of each measure in bold. */
export function scoresTable(groups: readonly GroupScores[], split: EvalSplit): string {
  const measures: [keyof QueryScores, string][] = [
    ['recall5', 'recall@5'],
    ['mrr10', 'MRR@10'],
    ['ndcg10', 'nDCG@10'],
  ];
  const header = [
    'category',
    'queries',
    ...measures.flatMap(([, name]) => EVAL_MODES.map((m) => `${name} ${m}`)),
  ];
  const rows = groups
    .filter((g) => g.split === split)
    .map((g) => [
      g.category === 'all' ? '**all**' : g.category,
      String(g.queries),
      ...measures.flatMap(([key]) => {
        const best = Math.max(...EVAL_MODES.map((m) => g.byMode[m][key]));
        return EVAL_MODES.map((m) => {
          const v = g.byMode[m][key];
          return v === best && best > 0 ? `**${f3(v)}**` : f3(v);
        });
      }),
    ]);
  return markdownTable(header, rows);
}

/** The bar for the held-out split: hybrid beats both in recall@5 and MRR@10, ≥ 0.9 overall, ≥ 0.8 per category. */
export function heldOutVerdict(groups: readonly GroupScores[]): string[] {
  const held = groups.filter((g) => g.split === 'heldout');
  const all = held.find((g) => g.category === 'all')!;
  const h = all.byMode.hybrid;
  const lines = [
    `hybrid beats vector and keyword in recall@5: ${h.recall5 > all.byMode.vector.recall5 && h.recall5 > all.byMode.keyword.recall5 ? 'yes' : 'no'}`,
    `hybrid beats vector and keyword in MRR@10: ${h.mrr10 > all.byMode.vector.mrr10 && h.mrr10 > all.byMode.keyword.mrr10 ? 'yes' : 'no'}`,
    `hybrid recall@5 ≥ 0.9 overall: ${h.recall5 >= 0.9 ? 'yes' : 'no'} (${f3(h.recall5)})`,
  ];
  for (const g of held.filter((x) => x.category !== 'all'))
    lines.push(
      `hybrid recall@5 ≥ 0.8 in ${g.category}: ${g.byMode.hybrid.recall5 >= 0.8 ? 'yes' : 'no'} (${f3(g.byMode.hybrid.recall5)})`,
    );
  return lines;
}

const inTop = (q: EvalQuery, ranked: readonly string[] | undefined, k: number) =>
  recallAt(q.relevant, ranked ?? [], k) > 0;

/**
 * Where hybrid misses on the tuning split (only there: the held-out split must not guide a
 * change): per category, of the questions whose answer hybrid leaves out of its top 5, how many
 * keyword alone, vector alone, both or neither had in their own top 5.
 */
export function hybridMisses(queries: readonly EvalQuery[], rankings: ReadonlyMap<string, Rankings>): string {
  const rows = EVAL_CATEGORIES.map((category) => {
    const qs = queries.filter((q) => q.split === 'tuning' && q.category === category);
    const misses = qs.filter((q) => !inTop(q, rankings.get(q.id)?.hybrid, 5));
    const had = (q: EvalQuery, mode: EvalMode) => inTop(q, rankings.get(q.id)?.[mode], 5);
    const count = (kw: boolean, vec: boolean) =>
      String(misses.filter((q) => had(q, 'keyword') === kw && had(q, 'vector') === vec).length);
    return [
      category,
      String(qs.length),
      String(misses.length),
      count(true, false),
      count(false, true),
      count(true, true),
      count(false, false),
    ];
  });
  return markdownTable(
    [
      'category',
      'questions',
      'hybrid misses',
      'keyword had it',
      'vector had it',
      'both had it',
      'neither had it',
    ],
    rows,
  );
}
