/**
 * The tables a search reads besides `documents`, derived from it and kept in the same transaction
 * (store.applyBatch), keyed by the document's rowid (stable: upserts update the row in place, and
 * nothing VACUUMs the database):
 *
 * - `doc_fts`: the FTS5 keyword index over each document's terms (keyword/tokenize.ts), ranked by BM25;
 * - `section_fts`: the same over each document's sections (keyword/sections.ts), rowids
 *   `document rowid × MAX_SECTIONS + section`, so a document's sections are one rowid range;
 * - `doc_meta`: one row per scalar metadata field, indexed, for the SQL pre-filter (filter-sql.ts).
 *
 * A data directory from before these tables gets them filled from `documents` on open, a page at
 * a time (`buildPage`), resuming where a cut-short build stopped.
 */
import type Database from 'better-sqlite3';
import type { QueryExpansion } from '../keyword/expansion.ts';
import { keywordSections, MAX_SECTIONS } from '../keyword/sections.ts';
import { keywordBody, keywordQueryTerms, matchExpression } from '../keyword/tokenize.ts';
import type { MetadataFilter } from '../../shared/search-filter.ts';
import { filterSql, metaValue } from './filter-sql.ts';

/** Bumped when the terms of a text change: an index of another version is built again. */
export const KEYWORD_INDEX_VERSION = '3';

/** Case and diacritics folding, then English stemming (the terms come from keyword/tokenize.ts). */
const TOKENIZE = 'porter unicode61 remove_diacritics 2';

export function createKeywordTables(db: Database.Database): void {
  db.exec(`
    CREATE VIRTUAL TABLE IF NOT EXISTS doc_fts USING fts5(body, tokenize = '${TOKENIZE}');
    CREATE VIRTUAL TABLE IF NOT EXISTS section_fts USING fts5(body, tokenize = '${TOKENIZE}');
    CREATE TABLE IF NOT EXISTS doc_meta (doc INTEGER NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, value);
    CREATE INDEX IF NOT EXISTS doc_meta_kv ON doc_meta (key, kind, value);
    CREATE INDEX IF NOT EXISTS doc_meta_row ON doc_meta (doc, key, kind, value);
    CREATE VIRTUAL TABLE IF NOT EXISTS doc_fts_vocab USING fts5vocab(doc_fts, 'row');
  `);
}

export interface RankedId {
  id: string;
  score: number;
}

/** Scores summed at their lists' weights, best first, equal scores in id order. */
function merge(lists: { hits: RankedId[]; weight: number }[]): RankedId[] {
  const scores = new Map<string, number>();
  for (const { hits, weight } of lists)
    for (const r of hits) scores.set(r.id, (scores.get(r.id) ?? 0) + weight * r.score);
  return [...scores]
    .map(([id, score]) => ({ id, score }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A document's best section counts this much beside its whole text (keyword/sections.ts). */
export const DEFAULT_SECTION_WEIGHT = 0;
/** How many sections per wanted document the section list reads. */
const SECTIONS_READ = 4;

export interface KeywordSearchOptions {
  /** The query words' neighbours (keyword/expansion.ts), scored at the expansion's weight. */
  expansion?: QueryExpansion | null;
  /** How much a document's best section counts beside its whole text; 0 reads no sections. */
  sectionWeight?: number;
}

/** Bounds of the per-connection caches below (cleared whole when full). */
const STATEMENTS_KEPT = 256;
const TERMS_KEPT = 50_000;

export class KeywordTables {
  private readonly stmts;
  /** Prepared statements by SQL text: a query's SQL varies only with its filter's shape. */
  private readonly statements = new Map<string, Database.Statement>();
  /** Query word → its stems as the index's tokenizer makes them (never changes). */
  private readonly stems = new Map<string, string[]>();
  /** Stem → how many documents hold it, at data version `frequenciesAt`. */
  private readonly frequencies = new Map<string, number>();
  private frequenciesAt = -1;

  constructor(
    private readonly db: Database.Database,
    /** How many documents are live (the store counts them). */
    private readonly documentCount: () => number,
    /** Words (and stems) the caches keep before they start afresh. */
    private readonly cacheLimit = TERMS_KEPT,
  ) {
    // Per connection: where a query's terms are stemmed to be looked up in the vocabulary.
    db.exec(`
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_fts USING fts5(body, tokenize = '${TOKENIZE}');
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_vocab USING fts5vocab(temp, query_fts, 'instance');
    `);
    this.stmts = {
      clearQuery: db.prepare('DELETE FROM temp.query_fts'),
      addQueryTerm: db.prepare('INSERT INTO temp.query_fts (rowid, body) VALUES (?, ?)'),
      queryTokens: db.prepare<[], { doc: number; term: string }>('SELECT doc, term FROM temp.query_vocab'),
      // Changes when another connection commits (this connection's own writes: see forgetFrequencies).
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
      rowidOf: db.prepare<[string], { rowid: number }>('SELECT rowid FROM documents WHERE id = ?'),
      dropFts: db.prepare('DELETE FROM doc_fts WHERE rowid = ?'),
      addFts: db.prepare('INSERT INTO doc_fts (rowid, body) VALUES (?, ?)'),
      // By rowid, one at a time: FTS5 serves a rowid range in a DELETE by scanning the whole
      // table, which made every applied write cost time in proportion to the corpus.
      dropSection: db.prepare('DELETE FROM section_fts WHERE rowid = ?'),
      addSection: db.prepare('INSERT INTO section_fts (rowid, body) VALUES (?, ?)'),
      dropMeta: db.prepare('DELETE FROM doc_meta WHERE doc = ?'),
      addMeta: db.prepare('INSERT INTO doc_meta (doc, key, kind, value) VALUES (?, ?, ?, ?)'),
      getState: db.prepare<[string], { value: string }>('SELECT value FROM node_state WHERE key = ?'),
      setState: db.prepare(
        'INSERT INTO node_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  rowidOf(id: string): number | undefined {
    return this.stmts.rowidOf.get(id)?.rowid;
  }

  /** A statement for `sql`, prepared once per connection. */
  private prepared(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      if (this.statements.size >= STATEMENTS_KEPT) this.statements.clear();
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /** This connection changed the index: `PRAGMA data_version` does not move for its own commits. */
  private forgetFrequencies(): void {
    this.frequencies.clear();
  }

  /** Drops what a document row held (before it is deleted or rewritten). */
  remove(rowid: number): void {
    this.forgetFrequencies();
    this.stmts.dropFts.run(rowid);
    // A document's sections are numbered from 0 without gaps (put): the first miss is the end.
    const first = rowid * MAX_SECTIONS;
    for (let i = 0; i < MAX_SECTIONS && this.stmts.dropSection.run(first + i).changes > 0; i++);
    this.stmts.dropMeta.run(rowid);
  }

  /** Indexes a document row afresh (inside the caller's transaction). */
  put(rowid: number, text: string, metadata: Record<string, unknown>): void {
    this.remove(rowid);
    this.stmts.addFts.run(rowid, keywordBody(text));
    keywordSections(text).forEach((body, i) => this.stmts.addSection.run(rowid * MAX_SECTIONS + i, body));
    for (const [key, raw] of Object.entries(metadata)) {
      const m = metaValue(raw);
      if (m) this.stmts.addMeta.run(rowid, key, m.kind, m.value);
    }
  }

  /**
   * Whether the tables hold every document; false in a data directory from before them (or of an
   * older term version) until `buildPage` has gone through all rows.
   */
  get ready(): boolean {
    return this.stmts.getState.get('keyword_index')?.value === KEYWORD_INDEX_VERSION;
  }

  /**
   * Indexes the next `limit` documents (by rowid) in one transaction that also records how far the
   * build got, so a build cut short resumes there; returns false once every row is done.
   */
  buildPage(limit: number): boolean {
    const state = (key: string) => this.stmts.getState.get(key)?.value;
    const set = (key: string, value: string | number) => this.stmts.setState.run(key, String(value));
    // A build of another term version starts over (put() replaces what a row held).
    const after =
      state('keyword_building') === KEYWORD_INDEX_VERSION ? Number(state('keyword_built_rowid')) : -1;
    const rows = this.db
      .prepare('SELECT rowid, text, metadata FROM documents WHERE rowid > ? ORDER BY rowid LIMIT ?')
      .all(after, limit) as { rowid: number; text: string; metadata: string }[];
    this.db.transaction(() => {
      for (const r of rows) this.put(r.rowid, r.text, JSON.parse(r.metadata) as Record<string, unknown>);
      set('keyword_building', KEYWORD_INDEX_VERSION);
      if (rows.length > 0) set('keyword_built_rowid', rows[rows.length - 1]!.rowid);
      else set('keyword_index', KEYWORD_INDEX_VERSION);
    })();
    return rows.length > 0;
  }

  /** How many documents pass the filter, counting no further than `cap`. */
  countMatching(filter: MetadataFilter, cap: number): number {
    const { where, params } = filterSql(filter, 'enumerate');
    const row = this.prepared(
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM documents d WHERE ${where} LIMIT ?)`,
    ).get(...params, cap) as { n: number };
    return row.n;
  }

  /**
   * An upper bound on the documents that pass the filter, capped at `cap`, from the doc_meta index
   * alone: the fewest rows any required condition has (Infinity when none is required: a filter
   * of only `$ne` / `$nin`). Cheap at any selectivity, unlike counting the matches themselves.
   */
  matchBound(filter: MetadataFilter, cap: number): number {
    let bound = Number.POSITIVE_INFINITY;
    for (const { test, params } of filterSql(filter, 'check').required) {
      const row = this.prepared(
        `SELECT COUNT(*) AS n FROM (SELECT 1 FROM doc_meta WHERE ${test} LIMIT ?)`,
      ).get(...params, cap) as { n: number };
      bound = Math.min(bound, row.n);
    }
    return bound;
  }

  /** Which of `ids` pass the filter (the post-filter, without reading the documents). */
  passingIds(ids: readonly string[], filter: MetadataFilter): Set<string> {
    const { where, params } = filterSql(filter, 'check');
    const out = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = this.prepared(
        `SELECT d.id FROM documents d WHERE d.id IN (${chunk.map(() => '?').join(',')}) AND ${where}`,
      )
        .pluck()
        .all(...chunk, ...params) as string[];
      for (const id of rows) out.add(id);
    }
    return out;
  }

  /**
   * Every passage (document id, its place in the document, stored vector) of the documents that
   * pass the filter: the pre-filter's candidates.
   */
  matchingVectors(filter: MetadataFilter): { id: string; ordinal: number; vector: Buffer }[] {
    const { where, params } = filterSql(filter, 'enumerate');
    return this.prepared(
      `SELECT d.id AS id, p.ordinal AS ordinal, p.vector AS vector
           FROM documents d JOIN passages p ON p.doc = d.rowid WHERE ${where}`,
    ).all(...params) as { id: string; ordinal: number; vector: Buffer }[];
  }

  /**
   * The query's terms less those in more than half of the documents, whose BM25 weight is nil
   * (FTS5 floors a negative IDF at 1e-6) but whose doclists would be read and scored in full: a
   * query with "the" would score every document. All common: only the rarest one stays. A term's
   * stems and a stem's document count are kept between queries (the count until the data changes).
   */
  private usefulTerms(terms: readonly string[]): string[] {
    if (terms.length < 2) return [...terms];
    const stems = this.stemsOf(terms);
    const df = this.documentFrequencies([...new Set(terms.flatMap((t) => stems.get(t)!))]);
    const common = this.documentCount() / 2;
    const frequency = (i: number) => {
      const own = stems.get(terms[i]!)!;
      return own.length === 0 ? 0 : Math.min(...own.map((s) => df.get(s) ?? 0));
    };
    const kept = terms.filter((_, i) => frequency(i) <= common);
    if (kept.length > 0) return kept;
    const rarest = terms.reduce((best, _, i) => (frequency(i) < frequency(best) ? i : best), 0);
    return [terms[rarest]!];
  }

  /** Each word's stems, by the index's own tokenizer (run only for words not seen before). */
  private stemsOf(terms: readonly string[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of terms) {
      const known = this.stems.get(t);
      if (known) out.set(t, known);
    }
    const unseen = [...new Set(terms.filter((t) => !out.has(t)))];
    if (unseen.length === 0) return out;
    this.stmts.clearQuery.run();
    unseen.forEach((t, i) => this.stmts.addQueryTerm.run(i + 1, t));
    const found = new Map<number, string[]>();
    for (const { doc, term } of this.stmts.queryTokens.all())
      found.set(doc, [...(found.get(doc) ?? []), term]);
    if (this.stems.size + unseen.length > this.cacheLimit) this.stems.clear();
    unseen.forEach((t, i) => {
      const stems = found.get(i + 1) ?? [];
      out.set(t, stems);
      this.stems.set(t, stems);
    });
    return out;
  }

  /** How many documents hold each stem, as the data stands (read only for stems not counted since it changed). */
  private documentFrequencies(stems: readonly string[]): Map<string, number> {
    const version = this.stmts.dataVersion.get() as number;
    if (version !== this.frequenciesAt) {
      this.frequencies.clear();
      this.frequenciesAt = version;
    }
    const out = new Map<string, number>();
    for (const s of stems) {
      const known = this.frequencies.get(s);
      if (known !== undefined) out.set(s, known);
    }
    const uncounted = stems.filter((s) => !out.has(s));
    if (uncounted.length === 0) return out;
    const rows = this.prepared(
      `SELECT term, doc FROM doc_fts_vocab WHERE term IN (${uncounted.map(() => '?').join(',')})`,
    ).all(...uncounted) as { term: string; doc: number }[];
    const counted = new Map(rows.map((r) => [r.term, r.doc]));
    if (this.frequencies.size + uncounted.length > this.cacheLimit) this.frequencies.clear();
    for (const s of uncounted) {
      const n = counted.get(s) ?? 0;
      out.set(s, n);
      this.frequencies.set(s, n);
    }
    return out;
  }

  /**
   * The `limit` best documents for a query by BM25 (score: -bm25, so higher is better), among those
   * that pass the filter; equal scores in id order, so every node answers alike. With an
   * expansion (keyword/expansion.ts), its terms are a second query whose BM25 is added at its
   * weight: a document's score is its own terms' plus the weighted neighbours', each list read
   * `limit` deep (a document beyond both is left out).
   */
  search(
    query: string,
    limit: number,
    filter?: MetadataFilter,
    options: KeywordSearchOptions = {},
  ): RankedId[] {
    const { expansion, sectionWeight = DEFAULT_SECTION_WEIGHT } = options;
    const own = this.scored(this.usefulTerms(keywordQueryTerms(query)), limit, sectionWeight, filter);
    if (!expansion) return own;
    const more = this.scored(this.usefulTerms(expansion.terms), limit, sectionWeight, filter);
    return merge([
      { hits: own, weight: 1 },
      { hits: more, weight: expansion.weight },
    ]).slice(0, limit);
  }

  /**
   * A document's score for some terms: its whole text's BM25 plus `sectionWeight` times its best
   * section's (keyword/sections.ts), each list read `limit` deep.
   */
  private scored(terms: string[], limit: number, sectionWeight: number, filter?: MetadataFilter): RankedId[] {
    const match = matchExpression(terms);
    if (match === null) return [];
    if (sectionWeight === 0) return this.ranked(match, limit, filter);
    return merge([
      { hits: this.ranked(match, limit, filter), weight: 1 },
      { hits: this.bestSections(match, limit, filter), weight: sectionWeight },
    ]).slice(0, limit);
  }

  /**
   * Each document's best section for a MATCH expression, the best `limit` documents, from the
   * SECTIONS_READ × `limit` best sections (a document's sections may crowd the top).
   */
  private bestSections(match: string, limit: number, filter?: MetadataFilter): RankedId[] {
    const { where, params } = filterSql(filter, 'check', `(section_fts.rowid / ${MAX_SECTIONS})`);
    const rows = this.prepared(
      `SELECT d.id AS id, s.score AS score FROM (
           SELECT section_fts.rowid AS rowid, -bm25(section_fts) AS score FROM section_fts
           WHERE section_fts MATCH ? AND ${where} ORDER BY score DESC, section_fts.rowid LIMIT ?
         ) s JOIN documents d ON d.rowid = s.rowid / ${MAX_SECTIONS} ORDER BY s.score DESC, d.id`,
    ).all(match, ...params, limit * SECTIONS_READ) as RankedId[];
    const best = new Map<string, number>();
    for (const r of rows) if (!best.has(r.id)) best.set(r.id, r.score);
    return [...best].slice(0, limit).map(([id, score]) => ({ id, score }));
  }

  /**
   * One MATCH expression's best documents. The FTS query drives, with the filter checked on its
   * matches by rowid, and only the rows kept are joined to `documents` (whose rows, texts of up to
   * 100,000 characters, are large: reading one per match would dominate). Ties at the cut go in
   * rowid order: rows are numbered in log order, alike on every node.
   */
  private ranked(match: string, limit: number, filter?: MetadataFilter): RankedId[] {
    const { where, params } = filterSql(filter, 'check', 'doc_fts.rowid');
    return this.prepared(
      `SELECT d.id AS id, s.score AS score FROM (
           SELECT doc_fts.rowid AS rowid, -bm25(doc_fts) AS score FROM doc_fts
           WHERE doc_fts MATCH ? AND ${where} ORDER BY score DESC, doc_fts.rowid LIMIT ?
         ) s JOIN documents d ON d.rowid = s.rowid ORDER BY s.score DESC, d.id`,
    ).all(match, ...params, limit) as RankedId[];
  }
}
