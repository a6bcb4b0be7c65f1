/**
 * Text → the space-separated terms the FTS5 keyword index holds (metadata/keyword-tables.ts).
 * SQLite's own tokenizer then does the rest: `porter unicode61 remove_diacritics 2` folds case and
 * diacritics and stems English ("taxis" and "taxi" meet). What it cannot do is done here, the same
 * way for documents and queries, so every node indexes alike:
 *
 * - Chinese runs are segmented into words (Intl.Segmenter 'zh') and also cut into character
 *   bigrams and single characters, so a question worded unlike the text still shares terms with
 *   it (a colloquial word often shares a character with the formal one: 报账 and 报销);
 * - identifiers (`PAY-7782`, `db-prod-07`, `KB0012345`) are kept whole as one term (connectors
 *   dropped: `pay7782`), and their parts (`pay`, `7782`; `kb`, `0012345`) are terms too, so
 *   `PAY-7782` ranks the document that holds it above the one holding `PAY-7781`.
 */

const segmenter = new Intl.Segmenter('zh', { granularity: 'word' });
const HAN_RUN = /\p{Script=Han}+/gu;
/** A word, or an identifier: alphanumeric parts joined by connectors. */
const WORD = /[\p{L}\p{N}\p{M}]+(?:[-_./:#][\p{L}\p{N}\p{M}]+)*/gu;
const CONNECTOR = /[-_./:#]/;
const LETTER_DIGIT_BOUNDARY = /(?<=\p{L})(?=\p{N})|(?<=\p{N})(?=\p{L})/u;

function hanTerms(run: string, out: string[]): void {
  for (const s of segmenter.segment(run)) if (s.isWordLike !== false) out.push(s.segment);
  const chars = [...run];
  for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
  out.push(...chars);
}

function wordTerms(word: string, out: string[]): void {
  const lower = word.toLowerCase();
  const parts = lower.split(CONNECTOR);
  const mixed = LETTER_DIGIT_BOUNDARY.test(lower);
  if (parts.length === 1 && !mixed) {
    out.push(lower);
    return;
  }
  out.push(parts.join(''));
  for (const part of parts) {
    const pieces = part.split(LETTER_DIGIT_BOUNDARY);
    if (pieces.length > 1 || parts.length > 1) out.push(...pieces);
  }
}

/** The terms of a text, in order (duplicates kept: BM25 counts them). */
export function keywordTerms(text: string): string[] {
  const out: string[] = [];
  let last = 0;
  const rest = (chunk: string) => {
    for (const m of chunk.matchAll(WORD)) wordTerms(m[0], out);
  };
  for (const m of text.matchAll(HAN_RUN)) {
    rest(text.slice(last, m.index));
    hanTerms(m[0], out);
    last = m.index + m[0].length;
  }
  rest(text.slice(last));
  return out;
}

/** What the FTS5 column of a document holds. */
export function keywordBody(text: string): string {
  return keywordTerms(text).join(' ');
}

const MAX_QUERY_TERMS = 64;

/** The distinct terms of a query, at most MAX_QUERY_TERMS of them. */
export function keywordQueryTerms(query: string): string[] {
  return [...new Set(keywordTerms(query))].slice(0, MAX_QUERY_TERMS);
}

/**
 * An FTS5 MATCH expression: any of the terms (OR; BM25 ranks documents that hold more of the
 * rarer ones first), each quoted so no term is read as FTS5 syntax. Null when there is no term
 * (a query of only punctuation, say): it matches nothing.
 */
export function matchExpression(terms: readonly string[]): string | null {
  if (terms.length === 0) return null;
  return terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' OR ');
}

/** The MATCH expression of a query's terms. */
export function keywordMatch(query: string): string | null {
  return matchExpression(keywordQueryTerms(query));
}
