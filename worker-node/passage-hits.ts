/**
 * From passages to documents: a search scores passages (each a FAISS label, or a stored vector in
 * the pre-filter) but answers with documents, one per document, scored by its best passage and
 * shown with it. Pure functions over plain data, so every node groups alike.
 */
import type { PassageSpan } from './embedder/passages.ts';
import { keywordQueryTerms, keywordTerms } from './keyword/tokenize.ts';

/** A scored passage: its document and its place among the document's passages. */
export interface PassageScore {
  id: string;
  ordinal: number;
  score: number;
}

/** Orders by score, then by id: positions differ between nodes, answers must not. */
export function byScoreThenId(a: { id: string; score: number }, b: { id: string; score: number }): number {
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * One entry per document, with the score and place of its best passage (the earliest one among
 * equals), best documents first.
 */
export function bestPerDocument(scored: Iterable<PassageScore>): PassageScore[] {
  const best = new Map<string, PassageScore>();
  for (const p of scored) {
    const held = best.get(p.id);
    if (!held || p.score > held.score || (p.score === held.score && p.ordinal < held.ordinal))
      best.set(p.id, p);
  }
  return [...best.values()].sort(byScoreThenId);
}

/** Folds a term the way English inflection would (close to, not exactly, the index's stemmer). */
function fold(term: string): string {
  return term.length > 4 ? term.replace(/(?:ing|ed|es|s)$/, '') : term;
}

/**
 * The passage that holds most of the query's distinct terms (the earliest among equals): what a
 * document found by its keywords is shown with. Only chooses what is shown; BM25 ranked it.
 */
export function passageForTerms(text: string, spans: readonly PassageSpan[], query: string): PassageSpan {
  const whole = { start: 0, end: text.length };
  if (spans.length <= 1) return spans[0] ?? whole;
  const wanted = keywordQueryTerms(query).map(fold);
  let best = spans[0]!;
  let bestHits = -1;
  for (const span of spans) {
    const held = new Set(keywordTerms(text.slice(span.start, span.end)).map(fold));
    const hits = wanted.filter((t) => held.has(t)).length;
    if (hits > bestHits) {
      best = span;
      bestHits = hits;
    }
  }
  return best;
}
