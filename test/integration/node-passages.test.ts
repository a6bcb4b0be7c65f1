/**
 * Long documents on real nodes (a master and a standby, real embedder, FAISS, Redis): a 20,000+
 * character document whose answer sits at its very end is found by vector search, with a passage
 * whose offsets point at the answer; re-ingesting it replaces all its passages and deleting it
 * removes them; the standby holds byte-identical passages (it applies the master's vectors, never
 * embeds) and answers every search identically.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../scripts/cluster/node-process.ts';
import { loadDocuments } from '../../scripts/corpus/sample.ts';
import { syntheticDocs } from '../../scripts/corpus/synthetic.ts';
import type { SearchResponse } from '../../shared/schemas.ts';
import {
  ingest,
  NODE_TEST_TIMEOUT_MS,
  startNodeCluster,
  type TestCluster,
  waitInSync,
} from '../helpers/cluster.ts';

const ANSWER =
  'The harbour crane emergency stop is released with the brass key kept in the lighthouse cabinet.';
const QUESTION = 'brass key to release the harbour crane emergency stop';
const FILLER = syntheticDocs(180, 'filler')
  .map((d) => d.text)
  .join('\n\n');

let cluster: TestCluster | undefined;
const master = () => cluster!.node('a');
const standby = () => cluster!.node('b');

beforeAll(async () => {
  cluster = await startNodeCluster({ nodes: ['a', 'b'] });
  await ingest(master(), loadDocuments(), cluster.epoch, 'applied');
}, NODE_TEST_TIMEOUT_MS);
afterAll(async () => {
  await cluster?.stop();
});

function search(node: NodeProcess, body: Record<string, unknown>) {
  return node.client.call<SearchResponse>('POST', '/api/v1/search', { top_k: 5, ...body });
}

/** The passages a node stores for a document: span and vector bytes, in order. */
function storedPassages(node: NodeProcess, id: string): string[] {
  const db = new Database(join(node.dataDir, 'metadata.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT p.start, p.end, hex(p.vector) AS v FROM passages p JOIN documents d ON d.rowid = p.doc
           WHERE d.id = ? ORDER BY p.ordinal`,
      )
      .all(id) as { start: number; end: number; v: string }[];
    return rows.map((r) => `${r.start}-${r.end}:${r.v}`);
  } finally {
    db.close();
  }
}

/** Both nodes answer alike in every mode: ids, scores and passages. */
async function expectSameAnswers(query: string): Promise<void> {
  for (const mode of ['vector', 'keyword', 'hybrid']) {
    const [a, b] = await Promise.all([master(), standby()].map((n) => search(n, { query, mode })));
    expect(a!.status).toBe(200);
    expect(b!.body.results, mode).toEqual(a!.body.results);
  }
}

describe('long documents as passages on a replicated cluster', { timeout: NODE_TEST_TIMEOUT_MS }, () => {
  it('finds the answer at the end of a 20,000+ character document, with offsets pointing at it', async () => {
    const text = `${FILLER}\n\n${ANSWER}`;
    expect(text.length).toBeGreaterThan(20_000);
    const put = await master().client.upsert([{ id: 'long-manual', text }], cluster!.epoch, 'replicated');
    expect(put.status, JSON.stringify(put.body)).toBe(200);

    const res = await search(master(), { query: QUESTION, mode: 'vector', include_text: false });
    expect(res.status).toBe(200);
    const ids = res.body.results.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const hit = res.body.results.find((r) => r.id === 'long-manual');
    expect(hit, JSON.stringify(ids)).toBeDefined();
    expect(hit!.text).toBeUndefined();
    const at = text.indexOf(ANSWER);
    expect(hit!.passage.start).toBeLessThanOrEqual(at);
    expect(hit!.passage.end).toBe(text.length);
    expect(hit!.passage.text).toBe(text.slice(hit!.passage.start, hit!.passage.end));
    expect(hit!.passage.text).toContain(ANSWER);
    // A passage is a window's worth, not the document.
    expect(hit!.passage.text.length).toBeLessThan(5000);

    // Found by its keywords, it is shown with the passage that holds them; hybrid likewise.
    for (const mode of ['keyword', 'hybrid']) {
      const found = await search(master(), { query: 'brass key lighthouse cabinet', mode });
      const shown = found.body.results.find((r) => r.id === 'long-manual');
      expect(shown?.passage.text, mode).toContain(ANSWER);
    }

    const passages = storedPassages(master(), 'long-manual');
    expect(passages.length).toBeGreaterThan(5);
    await waitInSync(master(), [standby()]);
    expect(storedPassages(standby(), 'long-manual')).toEqual(passages);
    await expectSameAnswers(QUESTION);
  });

  it('replaces every passage when the document is written again, and removes them all on delete', async () => {
    const before = storedPassages(master(), 'long-manual');
    const text = `${ANSWER}\n\n${FILLER.slice(0, 800)}`;
    const put = await master().client.upsert([{ id: 'long-manual', text }], cluster!.epoch, 'replicated');
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const after = storedPassages(master(), 'long-manual');
    expect(after.length).toBeLessThan(before.length);
    expect(after.every((p) => !before.includes(p))).toBe(true);
    expect(after[0]).toMatch(/^0-/);

    const res = await search(master(), { query: QUESTION, mode: 'vector' });
    const hit = res.body.results.find((r) => r.id === 'long-manual')!;
    expect(hit.text).toBe(text);
    expect(hit.passage.start).toBe(0);
    expect(hit.passage.text).toContain(ANSWER);
    await waitInSync(master(), [standby()]);
    expect(storedPassages(standby(), 'long-manual')).toEqual(after);
    await expectSameAnswers(QUESTION);

    const removed = await master().client.remove('long-manual', cluster!.epoch, 'replicated');
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    for (const node of [master(), standby()]) {
      expect(storedPassages(node, 'long-manual')).toEqual([]);
      for (const mode of ['vector', 'hybrid', 'keyword']) {
        const gone = await search(node, { query: QUESTION, mode, top_k: 20 });
        expect(gone.body.results.map((r) => r.id)).not.toContain('long-manual');
      }
    }
  });
});
