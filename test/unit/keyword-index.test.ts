/**
 * The FTS5 keyword index in the metadata store (SQLite in process, no FAISS): BM25 finds what a
 * word-vector model misses (inflections, exact identifiers beside near-miss ones, Chinese), it
 * follows every upsert and delete in the same transaction, and a data directory from before the
 * keyword tables gets them built from its documents.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keywordSections, MAX_SECTIONS } from '../../worker-node/keyword/sections.ts';
import { KeywordTables } from '../../worker-node/metadata/keyword-tables.ts';
import { type ApplyEntry, MetadataStore } from '../../worker-node/metadata/store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function storePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gte-keyword-'));
  dirs.push(dir);
  return join(dir, 'metadata.sqlite');
}

let ms = 1;
const upsert = (id: string, text: string, metadata: Record<string, unknown> = {}): ApplyEntry => ({
  seq: `${ms++}-0`,
  op: 'upsert',
  id,
  text,
  metadata,
  vector: new Float32Array([1, 0]),
});
const remove = (id: string): ApplyEntry => ({ seq: `${ms++}-0`, op: 'delete', id });

const corpus: [string, string][] = [
  ['taxi', 'Taxis and ride-hailing are reimbursable for airport transfers with a receipt.'],
  ['tax', 'Tax exemption for relocation allowances is handled by payroll.'],
  ['phone', 'Phone allowances are paid monthly with the salary.'],
  ['pay-1', 'Error PAY-7781 means the card issuer declined the payment.'],
  ['pay-2', 'Error PAY-7782 means the payment gateway timed out; retry after a minute.'],
  ['host', 'The nightly backup of db-prod-07 runs at 02:00 UTC.'],
  ['kb', 'Article KB0012345 explains how to reset a VPN token.'],
  ['zh', '电子发票重复报销的查重规则：系统按发票代码和号码自动比对。'],
  ['zh-2', '差旅住宿标准按城市等级确定。'],
];

const ids = (store: MetadataStore, query: string, k = 3) => store.keyword.search(query, k).map((h) => h.id);

describe('keyword index', () => {
  it('ranks by BM25 with stemming, identifiers kept whole, and Chinese segmentation', () => {
    const store = new MetadataStore(storePath());
    store.applyBatch(corpus.map(([id, text]) => upsert(id, text)));
    expect(ids(store, 'taxi reimbursement')[0]).toBe('taxi');
    expect(ids(store, 'PAY-7782')[0]).toBe('pay-2');
    expect(ids(store, 'pay-7781')[0]).toBe('pay-1');
    expect(ids(store, 'db-prod-07 backup')[0]).toBe('host');
    expect(ids(store, 'kb0012345')[0]).toBe('kb');
    expect(ids(store, '发票怎么查重')[0]).toBe('zh');
    expect(ids(store, '???')).toEqual([]);
    const hits = store.keyword.search('payment', 5);
    expect(hits.every((h) => h.score > 0)).toBe(true);
    store.close();
  });

  it('leaves out a word in more than half of the documents, counted afresh after every write', () => {
    const store = new MetadataStore(storePath());
    const docs = (from: number, to: number, text: string) =>
      Array.from({ length: to - from + 1 }, (_, i) => upsert(`d${from + i}`, text));
    store.applyBatch([
      ...docs(1, 4, 'harbour crane'),
      upsert('d5', 'harbour tugboat'),
      ...docs(6, 11, 'meadow grass'),
    ]);
    // 'harbour' is in 5 of 11 documents: a word to rank by.
    expect(ids(store, 'harbour tugboat', 20)).toHaveLength(5);
    // Now in 9 of 11: it weighs nothing in BM25 and is left out; only 'tugboat' ranks.
    store.applyBatch(docs(6, 9, 'harbour meadow'));
    expect(ids(store, 'harbour tugboat', 20)).toEqual(['d5']);
    // In 5 of 11 again: ranked by again.
    store.applyBatch(docs(1, 4, 'crane yard'));
    expect(ids(store, 'harbour tugboat', 20)).toHaveLength(5);
    store.close();
  });

  it('ranks alike when its word caches overflow and start afresh', () => {
    const path = storePath();
    const store = new MetadataStore(path);
    store.applyBatch(corpus.map(([id, text]) => upsert(id, text)));
    // A second connection whose caches hold three words: most queries overflow them.
    const tables = new KeywordTables(new Database(path, { readonly: true }), () => store.documentCount, 3);
    const queries = [
      'taxi reimbursement airport',
      'payment declined card',
      'taxi payment gateway',
      'airport transfers receipt',
      'payment taxi',
      'backup VPN token',
      'taxi',
    ];
    for (const q of [...queries, ...queries])
      expect(tables.search(q, 5), q).toEqual(store.keyword.search(q, 5));
    store.close();
  });

  it('follows upserts and deletes, and answers filtered searches from doc_meta', () => {
    const store = new MetadataStore(storePath());
    store.applyBatch([upsert('a', 'glacier expedition', { lang: 'en', year: 2024 })]);
    store.applyBatch([upsert('b', 'glacier survey', { lang: 'de', year: 2020 })]);
    expect(ids(store, 'glacier').sort()).toEqual(['a', 'b']);
    store.applyBatch([upsert('a', 'volcano expedition', { lang: 'en', year: 2025 })]);
    expect(ids(store, 'glacier')).toEqual(['b']);
    expect(ids(store, 'volcano')).toEqual(['a']);
    expect(store.keyword.search('expedition survey', 5, { year: { $gte: 2025 } }).map((h) => h.id)).toEqual([
      'a',
    ]);
    expect(store.keyword.search('expedition survey', 5, { lang: { $ne: 'en' } }).map((h) => h.id)).toEqual([
      'b',
    ]);
    store.applyBatch([remove('a')]);
    expect(ids(store, 'volcano')).toEqual([]);
    expect(store.keyword.countMatching({ lang: 'en' }, 10)).toBe(0);
    store.close();
  });

  it("drops every section of a rewritten or deleted long document, and only that document's", () => {
    const store = new MetadataStore(storePath());
    const sentence = (word: string, i: number) =>
      `The ${word} procedure step ${i} covers approvals, receipts, currency limits and reimbursement deadlines for staff.`;
    const long = (word: string, n: number) =>
      Array.from({ length: n }, (_, i) => sentence(word, i)).join(' ');
    const sectionsOf = (id: string) => {
      const rowid = store.keyword.rowidOf(id)!;
      return (
        store.db
          .prepare('SELECT count(*) AS n FROM section_fts WHERE rowid >= ? AND rowid < ?')
          .get(rowid * MAX_SECTIONS, (rowid + 1) * MAX_SECTIONS) as { n: number }
      ).n;
    };
    const total = () => (store.db.prepare('SELECT count(*) AS n FROM section_fts').get() as { n: number }).n;
    store.applyBatch([upsert('a', long('glacier', 40)), upsert('b', long('volcano', 12))]);
    const [a, b] = [sectionsOf('a'), sectionsOf('b')];
    expect(a).toBe(keywordSections(long('glacier', 40)).length);
    expect(a).toBeGreaterThan(5);
    expect(total()).toBe(a + b);
    // Rewritten shorter: none of the old sections outlives the new text's.
    store.applyBatch([upsert('a', long('tundra', 3))]);
    expect(sectionsOf('a')).toBe(keywordSections(long('tundra', 3)).length);
    expect(total()).toBe(sectionsOf('a') + b);
    expect(store.keyword.search('glacier', 5, undefined, { sectionWeight: 1 })).toEqual([]);
    store.applyBatch([remove('a')]);
    expect(total()).toBe(b);
    expect(sectionsOf('b')).toBe(b);
    store.close();
  });

  it('builds the keyword tables of a data directory from before them', () => {
    const path = storePath();
    const old = new MetadataStore(path);
    old.applyBatch(corpus.map(([id, text]) => upsert(id, text, { lang: id.startsWith('zh') ? 'zh' : 'en' })));
    // What a data directory from before the keyword tables looks like.
    old.db.exec('DROP TABLE doc_fts; DROP TABLE section_fts; DROP TABLE doc_meta');
    old.db.prepare("DELETE FROM node_state WHERE key LIKE 'keyword%'").run();
    old.close();
    const store = new MetadataStore(path);
    expect(store.keyword.ready).toBe(false);
    expect(ids(store, 'taxi')).toEqual([]);
    let pages = 0;
    while (store.keyword.buildPage(4)) pages++;
    expect(pages).toBe(3);
    expect(store.keyword.ready).toBe(true);
    expect(ids(store, 'taxi reimbursement')[0]).toBe('taxi');
    expect(store.keyword.countMatching({ lang: 'zh' }, 10)).toBe(2);
    store.close();
  });

  it("adds an expansion's matches below the documents that hold the query's own words", () => {
    const store = new MetadataStore(storePath());
    store.applyBatch([
      upsert('cab', 'A cab to the airport is paid back against a receipt.'),
      upsert('taxi', 'Taxi fares are paid back.'),
      upsert('hotel', 'Hotel nights are booked by the travel desk.'),
      upsert('desk', 'Desk phones are ordered through the service portal.'),
    ]);
    expect(store.keyword.search('taxi', 5).map((h) => h.id)).toEqual(['taxi']);
    const expansion = { terms: ['cab', 'minibus'], weight: 0.4 };
    // Found through the neighbour alone, a document scores the expansion's weight of its BM25.
    const alone = store.keyword.search('taxi', 5, undefined, { expansion });
    expect(alone.map((h) => h.id)).toEqual(['taxi', 'cab']);
    const cabOnly = store.keyword.search('cab', 5)[0]!;
    expect(alone[1]!.score).toBeCloseTo(0.4 * cabOnly.score, 9);
    expect(store.keyword.search('taxi', 5, { lang: 'zh' }, { expansion })).toEqual([]);
  });
});
