/**
 * Documents as passages in the engine (real SQLite, real FAISS): a document is found by any of its
 * passages and answered once, with the passage that scored; re-ingesting replaces every passage
 * and deleting removes them all, in the index and in both filter paths; a search asking for k
 * documents gets k distinct ones even when one document's passages crowd the nearest neighbours;
 * and a data directory from before passages (one vector per document row) opens as one passage
 * per document, under the same labels.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SearchEngine } from '../../worker-node/engine.ts';
import type { ApplyEntry, EmbeddedPassage } from '../../worker-node/metadata/store.ts';

const DIM = 8;
const model = { id: 'test-model', checksum: 'c0ffee', dimension: DIM };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function open(dataDir = mkdtempSync(join(tmpdir(), 'gte-passages-'))) {
  dirs.push(dataDir);
  return SearchEngine.open({
    dataDir,
    model,
    factory: 'Flat',
    compaction: { ratio: 10, minTombstones: 1e9 },
  });
}

/** The unit vector along axis `i`, tilted a little towards axis `j`. */
function axis(i: number, j = i, tilt = 0): Float32Array {
  const v = new Float32Array(DIM);
  v[i] = 1;
  v[j]! += tilt;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

let ms = 1;
function upsert(id: string, text: string, passages: EmbeddedPassage[], metadata = {}): ApplyEntry {
  return { seq: `${ms++}-0`, op: 'upsert', id, text, metadata, passages };
}

const LONG = 'First part about rooms. Second part about meals. Third part about taxis.';
const spans = [
  { start: 0, end: 23 },
  { start: 24, end: 48 },
  { start: 49, end: LONG.length },
];

describe('SearchEngine with passages', () => {
  it('reads only the documents a search returns, in every mode, with their scoring passage', async () => {
    const engine = await open();
    // 60 documents, each a passage along axis 0 tilted a little more than the last, all about taxis.
    await engine.apply(
      Array.from({ length: 60 }, (_, i) =>
        upsert(`d${String(i).padStart(2, '0')}`, `taxi receipts, part ${i}`, [
          { start: 0, end: 8, vector: axis(0, 1 + (i % 7), i / 60) },
        ]),
      ),
    );
    const read: string[][] = [];
    const documentsByIds = engine.store.documentsByIds.bind(engine.store);
    engine.store.documentsByIds = (ids) => {
      read.push([...ids]);
      return documentsByIds(ids);
    };
    for (const mode of ['vector', 'keyword', 'hybrid'] as const) {
      read.length = 0;
      const { hits } = await engine.search(axis(0), 5, undefined, { mode, text: 'taxi' });
      expect(hits.map((h) => h.doc.id)).toHaveLength(5);
      // A hybrid search fuses 50 candidates from each list; it reads the 5 it returns.
      expect(read.flat().sort()).toEqual(hits.map((h) => h.doc.id).sort());
      for (const h of hits) expect(h.doc.text).toMatch(/^taxi receipts/);
      if (mode !== 'keyword') expect(hits[0]!.passage).toEqual({ start: 0, end: 8 });
    }
    await engine.close();
  });

  it('finds a document by its last passage, replaces every passage on re-ingest, removes them on delete', async () => {
    const engine = await open();
    await engine.apply([
      upsert(
        'policy',
        LONG,
        spans.map((s, i) => ({ ...s, vector: axis(i) })),
        { kind: 'policy' },
      ),
      upsert('other', 'Something else.', [{ start: 0, end: 15, vector: axis(5) }], { kind: 'note' }),
    ]);
    expect(engine.indexSize).toBe(4);
    for (const filter of [undefined, { kind: 'policy' }]) {
      const { hits } = await engine.search(axis(2), 5, filter);
      expect(hits[0]).toMatchObject({ doc: { id: 'policy' }, passage: spans[2] });
      expect(hits[0]!.score).toBeCloseTo(1, 5);
      expect(LONG.slice(hits[0]!.passage.start, hits[0]!.passage.end)).toBe('Third part about taxis.');
      expect(hits.filter((h) => h.doc.id === 'policy')).toHaveLength(1);
    }

    // Written again with one passage: the old three are gone from FAISS answers and the pre-filter.
    await engine.apply([
      upsert('policy', 'Rooms only.', [{ start: 0, end: 11, vector: axis(0) }], { kind: 'policy' }),
    ]);
    for (const filter of [undefined, { kind: 'policy' }]) {
      const { hits } = await engine.search(axis(2), 5, filter);
      const policy = hits.find((h) => h.doc.id === 'policy')!;
      expect(policy.doc.text).toBe('Rooms only.');
      expect(policy.passage).toEqual({ start: 0, end: 11 });
      expect(policy.score).toBeCloseTo(0, 5);
    }
    await engine.compact();
    expect(engine.indexSize).toBe(2);

    await engine.apply([{ seq: `${ms++}-0`, op: 'delete', id: 'policy' }]);
    expect((await engine.search(axis(0), 5)).hits.map((h) => h.doc.id)).toEqual(['other']);
    expect((await engine.search(axis(0), 5, { kind: 'policy' })).hits).toEqual([]);
    await engine.compact();
    expect(engine.indexSize).toBe(1);
    await engine.close();
  });

  it('answers k distinct documents when one document holds the k nearest passages', async () => {
    const engine = await open();
    const crowd = Array.from({ length: 100 }, (_, i) => ({
      start: i,
      end: i + 1,
      vector: axis(0, 1, 0.001 * i),
    }));
    const entries = [upsert('crowd', 'x'.repeat(101), crowd)];
    for (let d = 0; d < 6; d++)
      entries.push(upsert(`doc-${d}`, 'y', [{ start: 0, end: 1, vector: axis(0, 2, 1 + d) }]));
    await engine.apply(entries);
    const { hits } = await engine.search(axis(0), 5);
    expect(hits.map((h) => h.doc.id)).toEqual(['crowd', 'doc-0', 'doc-1', 'doc-2', 'doc-3']);
    expect(hits[0]!.passage).toEqual({ start: 0, end: 1 });
    await engine.close();
  });

  it('filters FAISS candidates by document when a filter is too broad for the pre-filter', async () => {
    const engine = await open();
    const many = Array.from({ length: 2100 }, (_, i) =>
      upsert(`bulk-${i}`, 'bulk', [{ start: 0, end: 4, vector: axis(3 + (i % 4), 0, 0.1) }], {
        group: 'all',
      }),
    );
    await engine.apply([
      ...many,
      upsert(
        'policy',
        LONG,
        spans.map((s, i) => ({ ...s, vector: axis(i) })),
        { group: 'all' },
      ),
      upsert('outsider', 'x', [{ start: 0, end: 1, vector: axis(2) }], { group: 'none' }),
    ]);
    const { hits } = await engine.search(axis(2), 3, { group: 'all' });
    expect(hits[0]).toMatchObject({ doc: { id: 'policy' }, passage: spans[2] });
    expect(hits.map((h) => h.doc.id)).not.toContain('outsider');
    expect(new Set(hits.map((h) => h.doc.id)).size).toBe(3);
    await engine.close();
  });

  it('opens a data directory from before passages: each document is one passage, same labels', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gte-passages-legacy-'));
    dirs.push(dataDir);
    const db = new Database(join(dataDir, 'metadata.sqlite'));
    db.exec(`
      CREATE TABLE documents (id TEXT PRIMARY KEY, text TEXT NOT NULL, metadata TEXT NOT NULL,
        label INTEGER NOT NULL UNIQUE, version INTEGER NOT NULL, updated_seq TEXT NOT NULL, vector BLOB NOT NULL,
        write_version INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE node_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    const add = db.prepare('INSERT INTO documents VALUES (?, ?, ?, ?, 1, ?, ?, 0)');
    add.run('b', 'bravo 😀 text', '{"lang":"en"}', 1, '2-0', Buffer.from(axis(1).buffer));
    add.run('a', 'alpha text', '{}', 0, '1-0', Buffer.from(axis(0).buffer));
    for (const [k, v] of [
      ['applied_seq', '2-0'],
      ['next_label', '2'],
      ['model', JSON.stringify(model)],
    ])
      db.prepare('INSERT INTO node_state VALUES (?, ?)').run(k, v);
    db.close();

    const engine = await open(dataDir);
    expect(engine.appliedSeq).toBe('2-0');
    const { hits } = await engine.search(axis(1), 1, { lang: 'en' });
    expect(hits[0]).toMatchObject({
      doc: { id: 'b', text: 'bravo 😀 text' },
      passage: { start: 0, end: 13 },
    });
    expect(hits[0]!.score).toBeCloseTo(1, 5);
    expect(engine.store.labelMap()).toEqual(['a', 'b']);
    // The keyword index, keyed by the document rowid, still finds it after the table was rebuilt.
    const keyword = await engine.search(null, 1, undefined, { mode: 'keyword', text: 'bravo' });
    expect(keyword.hits.map((h) => h.doc.id)).toEqual(['b']);
    await engine.close();
  });
});
