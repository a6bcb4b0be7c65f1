/**
 * The sample knowledge base (corpus/documents.jsonl, corpus/queries.json) and recall@k, the
 * measure the acceptance lists are written in. The demo, the tests and the chaos suite all read
 * the corpus through here; more documents than the 330 real ones come from synthetic.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../cluster/node-process.ts';
import { recallAt } from '../eval/metrics.ts';

export interface CorpusDoc {
  id: string;
  text: string;
  metadata: Record<string, string | number | boolean | null>;
}

export interface LabelledQuery {
  query: string;
  lang: 'en' | 'zh';
  relevant: string[];
}

export function loadDocuments(): CorpusDoc[] {
  return readFileSync(join(ROOT, 'corpus', 'documents.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as CorpusDoc);
}

export function loadQueries(): LabelledQuery[] {
  return JSON.parse(readFileSync(join(ROOT, 'corpus', 'queries.json'), 'utf8')) as LabelledQuery[];
}

/** Splits `items` into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * recall@k: for each query the share of its relevant ids found among the first `k` result ids,
 * averaged over the queries (`resultIds[i]` answers `queries[i]`).
 */
export function recallAtK(queries: readonly LabelledQuery[], resultIds: readonly string[][], k = 5): number {
  if (queries.length === 0) return 0;
  let sum = 0;
  queries.forEach((q, i) => {
    sum += recallAt(Object.fromEntries(q.relevant.map((id) => [id, 1])), resultIds[i] ?? [], k);
  });
  return sum / queries.length;
}
