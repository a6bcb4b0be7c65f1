/**
 * The engine under reorganisation (real SQLite, real FAISS worker threads): while documents of one
 * to four passages are rewritten fast enough to force compaction after compaction, concurrent
 * searches must only ever return a document's own text, once, with the score of that same
 * version's best passage and that passage's span. Also: a
 * snapshot is skipped when nothing changed, a restarted engine finds the same documents, and a
 * FAISS worker that dies is replaced by an index rebuilt from SQLite (not-ready meanwhile).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../scripts/corpus/random.ts';
import { SearchEngine } from '../../worker-node/engine.ts';
import { waitFor } from '../../scripts/cluster/wait.ts';
import type { ApplyEntry } from '../../worker-node/metadata/store.ts';

const DIM = 16;
const model = { id: 'test-model', checksum: 'c0ffee', dimension: DIM };
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'gte-engine-'));
  dirs.push(d);
  return d;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

describe('SearchEngine across compactions', () => {
  it('never answers with a foreign document or a score of another version, under concurrent search', async () => {
    const dataDir = tempDir();
    const engine = await SearchEngine.open({
      dataDir,
      model,
      factory: 'Flat',
      compaction: { ratio: 0.2, minTombstones: 40 },
    });
    const random = mulberry32(7);
    const unitVector = () => {
      const v = Float32Array.from({ length: DIM }, () => random() * 2 - 1);
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    // Every version ever written: id → version number → its passages' vectors. Texts name their
    // version; passage i spans [i, end of text), so a hit's span says which passage scored.
    const versions = new Map<string, Float32Array[][]>();
    let seqMs = 1;
    const write = (ids: string[]) => {
      const entries: ApplyEntry[] = ids.map((id) => {
        const list = versions.get(id) ?? [];
        versions.set(id, list);
        list.push(Array.from({ length: 1 + Math.floor(random() * 4) }, unitVector));
        const text = `${id} version ${list.length - 1}`;
        return {
          seq: `${seqMs++}-0`,
          op: 'upsert',
          id,
          text,
          metadata: {},
          passages: list[list.length - 1]!.map((vector, i) => ({ start: i, end: text.length, vector })),
        };
      });
      return engine.apply(entries);
    };
    const latestPassage = (id: string) => {
      const passages = versions.get(id)!.at(-1)!;
      return passages[Math.floor(random() * passages.length)]!;
    };
    const ids = Array.from({ length: 300 }, (_, i) => `doc-${i}`);
    for (let i = 0; i < ids.length; i += 50) await write(ids.slice(i, i + 50));
    const generationBefore = engine.store.generation;

    let stop = false;
    let checked = 0;
    const problems: string[] = [];
    const searcher = async () => {
      while (!stop) {
        const query = latestPassage(ids[Math.floor(random() * ids.length)]!);
        const { hits } = await engine.search(query, 5);
        if (new Set(hits.map((h) => h.doc.id)).size !== hits.length) problems.push('duplicate vector hits');
        for (const hit of hits) {
          checked++;
          const m = /^(doc-\d+) version (\d+)$/.exec(hit.doc.text);
          if (!m || m[1] !== hit.doc.id) {
            problems.push(`hit ${hit.doc.id} carries text ${JSON.stringify(hit.doc.text)}`);
            continue;
          }
          const passages = versions.get(hit.doc.id)![Number(m[2])]!;
          const shown = passages[hit.passage.start];
          const expected = shown ? dot(query, shown) : Number.NaN;
          const best = Math.max(...passages.map((p) => dot(query, p)));
          if (!(Math.abs(expected - hit.score) <= 1e-4) || Math.abs(best - hit.score) > 1e-4)
            problems.push(
              `hit ${hit.doc.id} v${m[2]} at passage ${hit.passage.start}: score ${hit.score}, that passage gives ${expected}, the best ${best}`,
            );
        }
      }
    };
    // Hybrid searches fuse the FAISS list with the keyword index in SQLite: every hit must still
    // be a document's own text, once per document.
    const hybridSearcher = async () => {
      while (!stop) {
        const id = ids[Math.floor(random() * ids.length)]!;
        const { hits } = await engine.search(latestPassage(id), 5, undefined, {
          mode: 'hybrid',
          text: id,
        });
        if (new Set(hits.map((h) => h.doc.id)).size !== hits.length)
          problems.push(`duplicate hits for ${id}`);
        for (const hit of hits) {
          checked++;
          const m = /^(doc-\d+) version (\d+)$/.exec(hit.doc.text);
          if (!m || m[1] !== hit.doc.id)
            problems.push(`hybrid hit ${hit.doc.id} carries text ${hit.doc.text}`);
        }
      }
    };
    const searchers = [...Array.from({ length: 6 }, searcher), ...Array.from({ length: 2 }, hybridSearcher)];
    // Rewrite a third of the documents, batch after batch: tombstones pile up, compactions run.
    for (let round = 0; round < 40; round++) {
      const batch = Array.from({ length: 25 }, () => ids[Math.floor(random() * 100)]!);
      await write([...new Set(batch)]);
    }
    stop = true;
    await Promise.all(searchers);

    expect(engine.store.generation).toBeGreaterThan(generationBefore + 2);
    expect(checked).toBeGreaterThan(500);
    expect(problems.slice(0, 5)).toEqual([]);
    expect(engine.size).toBe(ids.length);
    await engine.close();
  });

  it('skips a snapshot when nothing changed, and reopens at the same position', async () => {
    const dataDir = tempDir();
    let engine = await SearchEngine.open({ dataDir, model, factory: 'Flat' });
    const vector = Float32Array.from({ length: DIM }, (_, i) => (i === 0 ? 1 : 0));
    await engine.apply([{ seq: '5-0', op: 'upsert', id: 'a', text: 'alpha', metadata: {}, vector }]);
    expect(await engine.snapshot()).toBe(true);
    expect(await engine.snapshot()).toBe(false);
    await engine.apply([{ seq: '6-0', op: 'upsert', id: 'b', text: 'beta', metadata: {}, vector }]);
    expect(await engine.snapshot()).toBe(true);
    await engine.close();

    engine = await SearchEngine.open({ dataDir, model, factory: 'Flat' });
    expect(engine.appliedSeq).toBe('6-0');
    expect(engine.size).toBe(2);
    // Loaded from the snapshot with nothing to top up: the next snapshot has nothing to write.
    expect(await engine.snapshot()).toBe(false);
    const { hits } = await engine.search(vector, 5);
    expect(hits.map((h) => h.doc.id)).toEqual(['a', 'b']);
    await engine.close();
  });

  it('replaces a dead FAISS worker with an index rebuilt from SQLite', async () => {
    const dataDir = tempDir();
    const engine = await SearchEngine.open({ dataDir, model, factory: 'Flat' });
    const vector = Float32Array.from({ length: DIM }, (_, i) => (i === 1 ? 1 : 0));
    await engine.apply([
      { seq: '1-0', op: 'upsert', id: 'a', text: 'alpha', metadata: {}, vector },
      { seq: '2-0', op: 'upsert', id: 'a', text: 'alpha again', metadata: {}, vector },
      { seq: '3-0', op: 'upsert', id: 'b', text: 'beta', metadata: {}, vector },
    ]);
    engine.crashIndex();
    await waitFor(
      'the engine to notice the dead worker',
      () => engine.health().state !== 'ok' || null,
      10_000,
    );
    await expect(engine.search(vector, 5)).rejects.toMatchObject({ status: 503, code: 'index_unavailable' });
    await waitFor('the index to be rebuilt', () => engine.health().state === 'ok' || null, 30_000);
    expect(engine.health().restarts).toBe(1);
    const { hits } = await engine.search(vector, 5);
    expect(hits.map((h) => [h.doc.id, h.doc.text])).toEqual([
      ['a', 'alpha again'],
      ['b', 'beta'],
    ]);
    await engine.close();
  });
});
