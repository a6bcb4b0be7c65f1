/**
 * Keyword query expansion from the model's own word vectors: a question that says "cab" where the
 * document says "taxi" shares no term with it, but the two words are neighbours in the embedding
 * table the model is built from (keyword/word-table.ts). Each plain English word of the query
 * brings its nearest neighbours above a similarity floor; the keyword index then scores them as a
 * second, lower-weighted query (metadata/keyword-tables.ts), so a document that holds the query's
 * own words still ranks above one that holds only neighbours.
 *
 * Deterministic (a fixed table, ties broken by table order), so every node expands alike; and
 * cached per word, since a scan of the table costs a few milliseconds.
 */
import type { WordTable } from './word-table.ts';

export interface ExpansionSettings {
  /** Neighbours taken per query word. */
  perWord: number;
  /** Cosine similarity a neighbour needs in the table. */
  minSimilarity: number;
  /**
   * Words among the table's first rows are not expanded and not expansions: in a frequency-ordered
   * table (the demo model's) they are function words and the vaguest nouns and verbs.
   */
  skipFirst: number;
  /** The expansion query's share of a document's keyword score, relative to the query's own terms. */
  weight: number;
}

export const DEFAULT_EXPANSION: ExpansionSettings = {
  perWord: 3,
  minSimilarity: 0.65,
  skipFirst: 150,
  weight: 0.4,
};

/** Expansion terms of a query and the weight their BM25 score is given. */
export interface QueryExpansion {
  terms: string[];
  weight: number;
}

const CACHE_MAX = 20_000;

/** Two words that begin alike (5 letters, or all of the shorter) are inflections the stemmer meets. */
function sameStem(a: string, b: string): boolean {
  const n = Math.min(5, a.length, b.length);
  return a.slice(0, n) === b.slice(0, n);
}

export class QueryExpander {
  private readonly cache = new Map<string, string[]>();

  constructor(
    private readonly table: WordTable,
    readonly settings: ExpansionSettings = DEFAULT_EXPANSION,
  ) {}

  /** The word's nearest plain words in the table, best first (none for an unknown or common word). */
  neighbours(word: string): string[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    const found = this.scan(word);
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(word, found);
    return found;
  }

  private scan(word: string): string[] {
    const { words, vectors, dimension: dim, index } = this.table;
    const { perWord, minSimilarity, skipFirst } = this.settings;
    const row = index.get(word);
    if (row === undefined || row < skipFirst || perWord === 0) return [];
    const q = vectors.subarray(row * dim, row * dim + dim);
    // The best `perWord` so far, best first; a strict > keeps the earlier row on a tie.
    const best: { row: number; sim: number }[] = [];
    for (let r = skipFirst; r < words.length; r++) {
      if (r === row) continue;
      let s = 0;
      const o = r * dim;
      for (let d = 0; d < dim; d++) s += q[d]! * vectors[o + d]!;
      if (s < minSimilarity || (best.length === perWord && s <= best[perWord - 1]!.sim)) continue;
      if (sameStem(word, words[r]!)) continue;
      let at = best.length;
      while (at > 0 && s > best[at - 1]!.sim) at--;
      best.splice(at, 0, { row: r, sim: s });
      if (best.length > perWord) best.pop();
    }
    return best.map((b) => words[b.row]!);
  }

  /** The expansion of a query's terms (keyword/tokenize.ts), or null when it has none. */
  expand(terms: readonly string[]): QueryExpansion | null {
    const own = new Set(terms);
    const out: string[] = [];
    for (const term of terms)
      for (const n of this.neighbours(term))
        if (!own.has(n) && !out.includes(n) && ![...own].some((t) => sameStem(t, n))) out.push(n);
    return out.length > 0 ? { terms: out, weight: this.settings.weight } : null;
  }
}
