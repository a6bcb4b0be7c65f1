/**
 * From passages to documents: a search scores passages (each a FAISS label, or a stored vector in
 * the pre-filter) but answers with documents, one per document, scored by its best passage and
 * shown with it. Pure functions over plain data, so every node groups alike.
 */
import type { PassageSpan } from './embedder/passages.ts';
import { keywordQueryTerms } from './keyword/tokenize.ts';

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

/** A query term as a stem to look for: English inflections cut off (close to the index's stemmer). */
function stem(term: string): string {
  return term.length > 4 ? term.replace(/(?:ments?|able|ing|ed|es|s|e)$/, '') : term;
}

/**
 * The passage that holds most of the query's distinct terms (the earliest among equals): what a
 * document found by its keywords is shown with. Only chooses what is shown (BM25 ranked it), so a
 * substring test of each stem is enough, and cheap on a 100,000-character document.
 */
export function passageForTerms(text: string, spans: readonly PassageSpan[], query: string): PassageSpan {
  const whole = { start: 0, end: text.length };
  if (spans.length <= 1) return spans[0] ?? whole;
  const stems = [...new Set(keywordQueryTerms(query).map(stem))];
  let best = spans[0]!;
  let bestHits = -1;
  for (const span of spans) {
    // Lowered per passage: lowering the whole text may change its length, and so the offsets.
    const passage = text.slice(span.start, span.end).toLowerCase();
    const hits = stems.filter((t) => passage.includes(t)).length;
    if (hits > bestHits) {
      best = span;
      bestHits = hits;
    }
  }
  return best;
}
