/**
 * The sample knowledge base (corpus/documents.jsonl, corpus/queries.json), deterministic
 * synthetic documents for tests and benchmarks that need more than the 330 real ones, and
 * recall@k, the measure the acceptance lists are written in. The demo, the tests and the chaos
 * suite all read the corpus through here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './node-process.ts';

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

/**
 * `count` synthetic documents, the same on every call: each splices the first half of one corpus
 * document, the second half of another and a slice of a third, chosen by a seeded generator
 * keyed on `prefix` and the number, so the texts are realistic and (unlike plain copies) embed
 * to distinct vectors: no two documents tie on score, across prefixes too. Ids are
 * `${prefix}-00000`, ...
 */
export function syntheticDocs(count: number, prefix = 'syn', start = 0): CorpusDoc[] {
  const corpus = loadDocuments();
  const out: CorpusDoc[] = [];
  for (let n = start; n < start + count; n++) {
    const next = seeded(`${prefix}:${n}`);
    const a = corpus[next() % corpus.length]!;
    const b = corpus[next() % corpus.length]!;
    const c = corpus[next() % corpus.length]!;
    const head = a.text.slice(0, Math.ceil(a.text.length / 2));
    const tail = b.text.slice(Math.floor(b.text.length / 2));
    const from = next() % Math.max(1, c.text.length - 40);
    out.push({
      id: `${prefix}-${String(n).padStart(5, '0')}`,
      text: `${head} ${tail} ${c.text.slice(from, from + 40)}`,
      metadata: { lang: a.metadata.lang ?? 'en', synthetic: true, n },
    });
  }
  return out;
}

/** A small deterministic generator (FNV-1a seed, xorshift32 steps) of non-negative integers. */
function seeded(key: string): () => number {
  let x = 2166136261;
  for (let i = 0; i < key.length; i++) x = Math.imul(x ^ key.charCodeAt(i), 16777619);
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
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
    const top = (resultIds[i] ?? []).slice(0, k);
    sum += q.relevant.filter((id) => top.includes(id)).length / q.relevant.length;
  });
  return sum / queries.length;
}
