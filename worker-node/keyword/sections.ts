/**
 * A document's keyword sections: runs of whole sentences of about SECTION_TERMS terms, each
 * indexed on its own beside the whole document (metadata/keyword-tables.ts). BM25 over whole
 * documents favours long handbooks, which hold a little of every question's words, and buries a
 * one-sentence answer deep in one of them; a section's BM25 rewards the query's words found
 * together, as passage retrieval does.
 */
import { keywordTerms } from './tokenize.ts';

/** About how many terms a section holds (sentences are not cut, so a section may hold more). */
export const SECTION_TERMS = 48;
/** Sections per document at most (the last takes whatever is left): its rowids are a fixed block. */
export const MAX_SECTIONS = 4096;

const SENTENCE_END = /(?<=[.!?;。！？；])\s+|(?<=[。！？；])|\n+/u;

/** The FTS5 bodies of a text's sections, in order (one for a short text; none for an empty one). */
export function keywordSections(text: string): string[] {
  const out: string[][] = [];
  let current: string[] = [];
  for (const sentence of text.split(SENTENCE_END)) {
    const terms = keywordTerms(sentence);
    if (terms.length === 0) continue;
    if (
      current.length > 0 &&
      current.length + terms.length > SECTION_TERMS &&
      out.length < MAX_SECTIONS - 1
    ) {
      out.push(current);
      current = [];
    }
    current.push(...terms);
  }
  if (current.length > 0) out.push(current);
  return out.map((terms) => terms.join(' '));
}
