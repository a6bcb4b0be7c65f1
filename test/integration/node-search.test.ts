/**
 * Search quality and durability: one real search node (ONNX demo model, FAISS Flat,
 * SQLite, Redis change log) with the sample knowledge base.
 *
 * The tests run in order on one node (starting one costs seconds): the corpus is ingested once,
 * searched, changed, then the node is restarted gracefully (snapshot path) and killed with
 * SIGKILL (snapshot + top-up path), and every labelled query must answer exactly as before.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../scripts/cluster/node-process.ts';
import type { SearchHit, SearchResponse } from '../../shared/schemas.ts';
import {
  ingest,
  startNodeCluster,
  waitFor,
  NODE_TEST_TIMEOUT_MS,
  type TestCluster,
} from '../helpers/cluster.ts';
import { loadDocuments, loadQueries, recallAtK, type LabelledQuery } from '../../scripts/corpus/sample.ts';
import { syntheticDocs } from '../../scripts/corpus/synthetic.ts';

const corpus = loadDocuments();
const queries = loadQueries();
let cluster: TestCluster | undefined;
let node: NodeProcess;

/** Top-5 of every labelled query, one query at a time (no coalescing across queries). */
async function answerAll(n: NodeProcess, qs: readonly LabelledQuery[] = queries): Promise<SearchHit[][]> {
  const out: SearchHit[][] = [];
  for (const q of qs) {
    const res = await n.client.search(q.query, 5);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    out.push(res.body.results);
  }
  return out;
}

function expectSameAnswers(after: SearchHit[][], before: SearchHit[][]): void {
  expect(after.length).toBe(before.length);
  after.forEach((hits, i) => {
    expect(
      hits.map((h) => h.id),
      `query ${JSON.stringify(queries[i]!.query)}`,
    ).toEqual(before[i]!.map((h) => h.id));
    hits.forEach((h, j) => expect(Math.abs(h.score - before[i]![j]!.score)).toBeLessThanOrEqual(1e-6));
  });
}

/** The last `index.loaded` line the node logged (how it opened its index at start-up). */
function lastIndexLoad(n: NodeProcess): {
  from_snapshot: boolean;
  size: number;
  added_from_store: number;
  documents: number;
} {
  const lines = readFileSync(n.logPath, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"index.loaded"'));
  return JSON.parse(lines[lines.length - 1]!);
}

beforeAll(async () => {
  cluster = await startNodeCluster({ nodes: 1 });
  node = cluster.node('a');
}, NODE_TEST_TIMEOUT_MS);
afterAll(async () => {
  await cluster?.stop();
});

describe('search node with the sample corpus', { timeout: NODE_TEST_TIMEOUT_MS }, () => {
  it('answers an empty index with no results', async () => {
    const res = await node.client.search('how do I submit an expense claim', 5);
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([]);
    // served_by also says the log position the answer was served at (read-your-writes).
    expect(res.body.served_by).toEqual({
      node: 'a',
      role: 'master',
      epoch: 1,
      applied_seq: expect.stringMatching(/^\d+-\d+$/),
    });
  });

  it('ingests the corpus and reaches recall@5 >= 0.6 on the English labelled queries', async () => {
    await ingest(node, corpus, cluster!.epoch, 'applied');
    expect((await node.client.health()).body.index.size).toBe(corpus.length);
    const en = queries.filter((q) => q.lang === 'en');
    const answers = await answerAll(node, en);
    const recall = recallAtK(
      en,
      answers.map((hits) => hits.map((h) => h.id)),
    );
    console.log(`recall@5 en = ${recall.toFixed(3)} over ${en.length} queries`);
    expect(recall).toBeGreaterThanOrEqual(0.6);
  });

  it('ranks the labelled queries at least as well in hybrid mode as by vectors alone', async () => {
    const recall: Record<string, Record<'en' | 'zh', number>> = {};
    for (const mode of ['vector', 'keyword', 'hybrid']) {
      const ids: string[][] = [];
      for (const q of queries) {
        const res = await node.client.call<SearchResponse>('POST', '/api/v1/search', {
          query: q.query,
          top_k: 5,
          mode,
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        ids.push(res.body.results.map((h) => h.id));
      }
      const of = (lang: 'en' | 'zh') =>
        recallAtK(
          queries.filter((q) => q.lang === lang),
          ids.filter((_, i) => queries[i]!.lang === lang),
        );
      recall[mode] = { en: of('en'), zh: of('zh') };
    }
    console.log(`recall@5 by mode: ${JSON.stringify(recall)}`);
    for (const lang of ['en', 'zh'] as const)
      expect(recall.hybrid![lang]).toBeGreaterThanOrEqual(recall.vector![lang]!);
  });

  it('finds the Chinese document that shares the key terms of a Chinese query', async () => {
    const res = await node.client.search('电子发票重复报销怎么查重', 5);
    expect(res.status).toBe(200);
    expect(res.body.results[0]!.id).toBe('zh-fin-002');
    expect(res.body.results[0]!.metadata.lang).toBe('zh');
  });

  it('filters by metadata: lang zh returns only Chinese documents', async () => {
    const res = await node.client.search('expense claim receipts and invoices', 20, { lang: 'zh' });
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(20);
    for (const hit of res.body.results) expect(hit.metadata.lang).toBe('zh');
    const two = await node.client.search('expense claim receipts', 50, { lang: 'zh', department: 'finance' });
    expect(two.body.results.length).toBeGreaterThan(0);
    for (const hit of two.body.results)
      expect(hit.metadata).toMatchObject({ lang: 'zh', department: 'finance' });
    const none = await node.client.search('expense claim', 5, { lang: 'fr' });
    expect(none.body.results).toEqual([]);
  });

  it('clamps top_k to the index size', async () => {
    const res = await node.client.search('travel', 100);
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(100);
    const filtered = await node.client.search('travel', 100, { department: 'finance', lang: 'zh' });
    const expected = corpus.filter(
      (d) => d.metadata.department === 'finance' && d.metadata.lang === 'zh',
    ).length;
    expect(filtered.body.results).toHaveLength(Math.min(100, expected));
    expect(new Set(filtered.body.results.map((h) => h.id)).size).toBe(filtered.body.results.length);
  });

  it('searches in every mode: keyword finds inflections the vectors miss, hybrid fuses both', async () => {
    const search = (body: Record<string, unknown>) =>
      node.client.call<SearchResponse>('POST', '/api/v1/search', { top_k: 5, ...body });
    const query = 'taxi reimbursement';
    const keyword = await search({ query, mode: 'keyword' });
    expect(keyword.status, JSON.stringify(keyword.body)).toBe(200);
    expect(keyword.body.results[0]!.id).toBe('fin-011');
    expect(keyword.body.results.every((h) => h.score > 0)).toBe(true);
    const hybrid = await search({ query });
    expect(hybrid.body.results.map((h) => h.id)).toContain('fin-011');
    // Relative score fusion: each list scaled to 0..1, weighted to sum to 1.
    for (const h of hybrid.body.results) expect(h.score).toBeLessThanOrEqual(1 + 1e-12);
    const vector = await search({ query, mode: 'vector' });
    for (const h of vector.body.results) expect(Math.abs(h.score)).toBeLessThanOrEqual(1 + 1e-5);
    // Reciprocal rank fusion: at most 1 / (rrf_k + 1) with weights that sum to 1.
    const flat = await search({ query, fusion: 'rrf', rrf_k: 1000 });
    expect(flat.body.results.map((h) => h.id)).toContain('fin-011');
    expect(flat.body.results[0]!.score).toBeLessThanOrEqual(1 / 1001 + 1e-12);
    // A bad fusion parameter is a 400 that names it.
    const bad = await search({ query, keyword_weight: 2 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('keyword_weight');
    // Chinese through the keyword index alone.
    const zh = await search({ query: '电子发票重复报销怎么查重', mode: 'keyword' });
    expect(zh.body.results[0]!.id).toBe('zh-fin-002');
  });

  it('filters with operators in every mode', async () => {
    for (const mode of ['hybrid', 'vector', 'keyword']) {
      const res = await node.client.call<SearchResponse>('POST', '/api/v1/search', {
        query: 'expense claim receipts 报销 发票',
        top_k: 30,
        mode,
        filter: { metadata: { lang: { $ne: 'en' }, department: { $in: ['finance', 'hr'] } } },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.results.length).toBeGreaterThan(0);
      for (const h of res.body.results) {
        expect(h.metadata.lang).toBe('zh');
        expect(['finance', 'hr']).toContain(h.metadata.department);
      }
    }
    const none = await node.client.call<SearchResponse>('POST', '/api/v1/search', {
      query: 'expense claim',
      filter: { metadata: { department: { $nin: ['finance', 'hr', 'it-ops', 'legal', 'support'] } } },
    });
    expect(none.body.results).toEqual([]);
  });

  it('answers 400 naming the field for a query with nothing to search or a malformed filter', async () => {
    for (const query of [' \n\t ', '\u0000\u0001', 'a\uD800']) {
      const res = await node.client.call('POST', '/api/v1/search', { query });
      expect(res.status).toBe(400);
      expect(res.body.error.field).toBe('query');
    }
    const bad = await node.client.call('POST', '/api/v1/search', {
      query: 'x',
      filter: { metadata: { year: { $gt: [2020] } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('filter.metadata.year');
    expect(bad.body.error.message).toContain('$gt');
  });

  it('shows an upsert and a delete in the very next search (wait: applied)', async () => {
    const doc = {
      id: 'it-upsert-1',
      text: 'Quantum entanglement teleportation protocol for the zebra sanctuary',
      metadata: { lang: 'en' },
    };
    const up = await node.client.upsert([doc], cluster!.epoch, 'applied');
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    expect(up.body).toMatchObject({ status: 'applied', accepted: 1 });
    const found = await node.client.search('quantum entanglement zebra sanctuary', 5);
    expect(found.body.results[0]!.id).toBe(doc.id);
    expect(found.body.results[0]!.text).toBe(doc.text);

    // An update replaces the text; the old version is never returned again.
    const changed = { ...doc, text: 'Volcanic glacier expedition checklist for penguin researchers' };
    expect((await node.client.upsert([changed], cluster!.epoch, 'applied')).status).toBe(200);
    const after = await node.client.search('volcanic glacier penguin expedition', 5);
    expect(after.body.results[0]).toMatchObject({ id: doc.id, text: changed.text });
    const old = await node.client.search('quantum entanglement zebra sanctuary', 10);
    expect(old.body.results.filter((h) => h.id === doc.id).every((h) => h.text === changed.text)).toBe(true);

    const del = await node.client.remove(doc.id, cluster!.epoch, 'applied');
    expect(del.status, JSON.stringify(del.body)).toBe(200);
    const gone = await node.client.search('volcanic glacier penguin expedition', 100);
    expect(gone.body.results.map((h) => h.id)).not.toContain(doc.id);
    expect((await node.client.signed('GET', `/api/v1/documents/${doc.id}`)).status).toBe(404);
  });

  it('answers every labelled query identically after a graceful restart (snapshot path)', async () => {
    const before = await answerAll(node);
    node = await cluster!.restartNode('a');
    const load = lastIndexLoad(node);
    expect(load.from_snapshot).toBe(true);
    expect(load.added_from_store).toBe(0);
    expectSameAnswers(await answerAll(node), before);
  });

  it('answers every labelled query identically after kill -9 (snapshot + top-up path)', async () => {
    // Change the data after the snapshot the graceful stop wrote: new documents, updates of
    // existing ones (tombstones), a delete. None of this is in index.faiss when the node dies.
    const act = await node.client.activate(cluster!.epoch);
    expect(act.status, JSON.stringify(act.body)).toBe(200);
    const updates = corpus
      .slice(0, 20)
      .map((d) => ({ ...d, text: `${d.text} Updated policy revision two.` }));
    await ingest(node, [...syntheticDocs(60, 'kill'), ...updates], cluster!.epoch, 'applied');
    expect((await node.client.remove('fin-003', cluster!.epoch, 'applied')).status).toBe(200);
    const before = await answerAll(node);
    const sizeBefore = (await node.client.health()).body.index.size;

    const pid = node.child.pid!;
    process.kill(pid, 'SIGKILL');
    await node.exited;
    node = await cluster!.startNode('a');
    const load = lastIndexLoad(node);
    expect(load.documents).toBe(sizeBefore);
    // Either the snapshot was topped up with what came after it, or (tombstones past the
    // snapshot) the index was rebuilt from the stored vectors; both must give the same answers.
    expect(load.from_snapshot ? load.added_from_store > 0 : load.size === sizeBefore).toBe(true);
    expectSameAnswers(await answerAll(node), before);
    const fin3 = await node.client.search(corpus.find((d) => d.id === 'fin-003')!.text, 100);
    expect(fin3.body.results.map((h) => h.id)).not.toContain('fin-003');
    await waitFor('health ready', async () => (await node.client.health()).body.ready);
  });
});
