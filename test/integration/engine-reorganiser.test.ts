/**
 * How a compaction and a snapshot share the node with its searches (real SQLite, real FAISS and
 * reorganiser worker threads): their SQLite pages, the renumbering and the snapshot file are
 * done on the reorganiser thread, not the main connection; a compaction builds in a FAISS thread
 * kept for it instead of starting one; a search in flight at the swap finishes on the generation
 * it started on, without a second FAISS call, and still never serves a version a later write
 * replaced; a reorganiser thread that dies is replaced.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '../../scripts/cluster/wait.ts';
import { mulberry32 } from '../../scripts/corpus/random.ts';
import { SearchEngine } from '../../worker-node/engine.ts';
import type { IndexGeneration } from '../../worker-node/index-generation.ts';
import type { Reorganiser } from '../../worker-node/metadata/reorganiser.ts';
import type { ApplyEntry } from '../../worker-node/metadata/store.ts';
import { VectorIndex } from '../../worker-node/vector-index/index.ts';

const DIM = 16;
const model = { id: 'test-model', checksum: 'c0ffee', dimension: DIM };
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The engine's parts a test looks into (private in the class). */
interface EngineInside {
  gen: IndexGeneration;
  reorganiser: Reorganiser;
}
const inside = (engine: SearchEngine) => engine as unknown as EngineInside;

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** An engine of `count` documents, the first third written twice (tombstones to compact away). */
async function engineWithDocuments(count: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'gte-reorganiser-'));
  dirs.push(dataDir);
  const engine = await SearchEngine.open({
    dataDir,
    model,
    factory: 'Flat',
    compaction: { ratio: Number.POSITIVE_INFINITY, minTombstones: Number.POSITIVE_INFINITY },
  });
  const random = mulberry32(11);
  const current = new Map<string, Float32Array>();
  let seq = 1;
  const write = (id: string, vector?: Float32Array) => {
    const v =
      vector ??
      (() => {
        const raw = Float32Array.from({ length: DIM }, () => random() * 2 - 1);
        const n = Math.hypot(...raw);
        return raw.map((x) => x / n);
      })();
    current.set(id, v);
    const entry: ApplyEntry = {
      seq: `${seq++}-0`,
      op: 'upsert',
      id,
      text: `text of ${id}`,
      metadata: {},
      vector: v,
    };
    return engine.apply([entry]);
  };
  for (let i = 0; i < count; i++) await write(`doc-${i}`);
  for (let i = 0; i < count / 3; i++) await write(`doc-${i}`);
  return { engine, current, write };
}

/** Every hit is its document's current text, scored against its current vector. */
function expectCurrent(
  hits: { doc: { id: string; text: string }; score: number }[],
  query: Float32Array,
  current: Map<string, Float32Array>,
) {
  for (const hit of hits) {
    expect(hit.doc.text).toBe(`text of ${hit.doc.id}`);
    expect(hit.score).toBeCloseTo(dot(query, current.get(hit.doc.id)!), 5);
  }
}

/** A search with a document's own vector finds it first, and every hit is current. */
async function expectFindsItself(engine: SearchEngine, current: Map<string, Float32Array>, id: string) {
  const query = current.get(id)!;
  const { hits } = await engine.search(query, 3);
  expect(hits[0]!.doc.id).toBe(id);
  expectCurrent(hits, query, current);
}

/**
 * Holds the FAISS answers of `gen`'s searches until `release` is called; `answered` resolves when
 * the first one has its answer from FAISS.
 */
function holdSearches(gen: IndexGeneration) {
  const search = gen.index.search.bind(gen.index);
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let answered!: () => void;
  const firstAnswer = new Promise<void>((r) => {
    answered = r;
  });
  gen.index.search = async (vector, k) => {
    const hits = await search(vector, k);
    answered();
    await gate;
    return hits;
  };
  return { release, answered: firstAnswer };
}

/**
 * A search of `query` whose FAISS answer is held while `meanwhile` runs; its hits, and how many
 * times it asked the generation current at the end (a second FAISS call).
 */
async function heldAcross(engine: SearchEngine, query: Float32Array, meanwhile: () => Promise<void>) {
  const held = holdSearches(inside(engine).gen);
  const search = engine.search(query, 5);
  await held.answered;
  await meanwhile();
  const current = inside(engine).gen;
  const ask = current.index.search.bind(current.index);
  let askedAgain = 0;
  current.index.search = (vector, k) => {
    askedAgain++;
    return ask(vector, k);
  };
  held.release();
  const { hits } = await search;
  return { hits, askedAgain };
}

describe('SearchEngine reorganisation beside searches', () => {
  it('reads, renumbers and snapshots on the reorganiser thread, and builds in a kept FAISS thread', async () => {
    const { engine, current } = await engineWithDocuments(300);
    try {
      // Let the spare FAISS thread finish starting, as it does long before a compaction is due.
      await waitFor(
        'the spare FAISS thread',
        async () => (await (engine as unknown as { spare: Promise<unknown> }).spare) ?? null,
        30_000,
      );
      const labels = engine.store.labels;
      const onMain = [
        vi.spyOn(labels, 'livePage'),
        vi.spyOn(labels, 'vectorBytesAfter'),
        vi.spyOn(labels, 'renumberChunk'),
        vi.spyOn(labels, 'renumber'),
      ];
      const opened = vi.spyOn(VectorIndex, 'open');
      const generation = engine.store.generation;
      await engine.compact();
      expect(await engine.snapshot()).toBe(true);
      await engine.compact();

      expect(engine.store.generation).toBe(generation + 2);
      expect(engine.indexSize).toBe(300);
      for (const spy of onMain) expect(spy).not.toHaveBeenCalled();
      // The first compaction built in the thread started with the engine, the second in the
      // one the first replaced (emptied once its searches were done).
      expect(opened).not.toHaveBeenCalled();
      await expectFindsItself(engine, current, 'doc-7');
    } finally {
      await engine.close();
    }
  });

  it('finishes a search in flight at the swap on its own generation, without serving a version written after it', async () => {
    const { engine, current, write } = await engineWithDocuments(90);
    try {
      // 1. Nothing written after the swap: the answer stands, with no second FAISS call.
      const target = current.get('doc-5')!;
      const first = await heldAcross(engine, target, () => engine.compact());
      expect(first.hits[0]!.doc.id).toBe('doc-5');
      expectCurrent(first.hits, target, current);
      expect(first.askedAgain).toBe(0);

      // 2. A write after the swap replaces the document the held search found: the old
      // generation hides its old version at the commit, so it is never served with the old score.
      const query = current.get('doc-40')!;
      const second = await heldAcross(engine, query, async () => {
        await engine.compact();
        await write(
          'doc-40',
          Float32Array.from({ length: DIM }, (_, i) => (i === 0 ? 1 : 0)),
        );
      });
      expect(second.askedAgain).toBe(0);
      expect(second.hits.length).toBeGreaterThan(0);
      expectCurrent(second.hits, query, current);

      // 3. Two swaps while a search is held: the first generation is no longer kept in step, so
      // the search asks the current one.
      const third = await heldAcross(engine, query, async () => {
        await engine.compact();
        await engine.compact();
      });
      expect(third.askedAgain).toBe(1);
      expectCurrent(third.hits, query, current);

      // 4. Every document the held search found is rewritten after the swap: short of answers,
      // it fetches more from the current generation (the replaced one's FAISS thread is being
      // emptied for reuse), and still answers in full.
      const fourth = await heldAcross(engine, query, async () => {
        await engine.compact();
        for (let i = 0; i < 90; i++) await write(`doc-${i}`);
      });
      expect(fourth.hits).toHaveLength(5);
      expectCurrent(fourth.hits, query, current);
    } finally {
      await engine.close();
    }
  });

  it('replaces a reorganiser thread that died, and the next compaction and snapshot run', async () => {
    const { engine, current } = await engineWithDocuments(60);
    try {
      const reorganiser = inside(engine).reorganiser;
      reorganiser.crash();
      await waitFor('the reorganiser thread to exit', () => reorganiser.restarts === 1 || null, 10_000);
      await engine.compact();
      expect(await engine.snapshot()).toBe(true);
      await expectFindsItself(engine, current, 'doc-3');
    } finally {
      await engine.close();
    }
  });
});
