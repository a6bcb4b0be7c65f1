/** The sample knowledge base (corpus/) and recall@k over its labelled queries. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './node-process.ts';

export interface CorpusDoc {
  id: string;
  text: string;
  metadata: Record<string, unknown>;
}

export interface LabelledQuery {
  query: string;
  lang: 'en' | 'zh';
  relevant: string[];
}

export function loadCorpus(): { documents: CorpusDoc[]; queries: LabelledQuery[] } {
  const documents = readFileSync(join(ROOT, 'corpus', 'documents.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as CorpusDoc);
  const queries = JSON.parse(readFileSync(join(ROOT, 'corpus', 'queries.json'), 'utf8')) as LabelledQuery[];
  return { documents, queries };
}

/** Share of relevant ids found in the top k, averaged over queries. */
export function recallAtK(results: { query: LabelledQuery; ids: string[] }[], k = 5): number {
  if (results.length === 0) return 0;
  let sum = 0;
  for (const { query, ids } of results) sum += query.relevant.filter((id) => ids.slice(0, k).includes(id)).length / query.relevant.length;
  return sum / results.length;
}
