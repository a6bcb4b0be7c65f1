/**
 * Keyword rankings run off the event loop (worker-node/metadata/keyword-reader.ts): the reader's
 * thread, on its own read-only connection, must rank exactly as the main connection does, see
 * every commit made before a query, and carry the engine's keyword and hybrid searches, which
 * then never rank on the main thread (where a large corpus's BM25 query held up /health).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../scripts/corpus/random.ts';
import { benchDocs, benchQueries } from '../../scripts/corpus/synthetic.ts';
import { SearchEngine } from '../../worker-node/engine.ts';
import { KeywordReader } from '../../worker-node/metadata/keyword-reader.ts';
import type { ApplyEntry } from '../../worker-node/metadata/store.ts';
import type { MetadataFilter } from '../../shared/search-filter.ts';
import { retrieve } from '../../worker-node/retrieval.ts';

const DIM = 8;
const model = { id: 'test-model', checksum: 'c0ffee', dimension: DIM };
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function openEngine(): Promise<SearchEngine> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gte-keyword-reader-'));
  dirs.push(dataDir);
  return SearchEngine.open({ dataDir, model, factory: 'Flat' });
}

/** An engine and a reader of `threads` threads on its database, both closed after `use`. */
async function withReader(
  threads: number,
  restartAfterMs: number,
  use: (engine: SearchEngine, reader: KeywordReader) => Promise<void>,
): Promise<void> {
  const engine = await openEngine();
  const { store } = engine;
  const reader = KeywordReader.open(
    store.path,
    store.keyword,
    () => store.documentCount,
    threads,
    restartAfterMs,
  );
  try {
    await use(engine, reader);
  } finally {
    await reader.close();
    await engine.close();
  }
}

const random = mulberry32(11);
const vector = () => Float32Array.from({ length: DIM }, () => random() * 2 - 1);
let seqMs = 1;

function upserts(docs: ReturnType<typeof benchDocs>): ApplyEntry[] {
  return docs.map((d) => ({ seq: `${seqMs++}-0`, op: 'upsert', ...d, vector: vector() }));
}

describe('KeywordReader', () => {
  it('ranks exactly as the main connection, with and without filters, and sees each commit', async () => {
    const engine = await openEngine();
    const store = engine.store;
    const reader = KeywordReader.open(store.path, store.keyword, () => store.documentCount);
    try {
      await engine.apply(upserts(benchDocs(0, 600)));
      const filters: (MetadataFilter | undefined)[] = [
        undefined,
        { team: 'finance' },
        { year: { $gte: 2022 } },
      ];
      for (const [i, query] of benchQueries(30, 5).entries()) {
        const filter = filters[i % filters.length];
        expect(await reader.search(query, 20, filter), query).toEqual(
          store.keyword.search(query, 20, filter),
        );
      }
      // A rewrite and a delete committed on the main connection are what the next ranking sees.
      const [first] = store.keyword.search('approved', 1);
      await engine.apply([
        {
          seq: `${seqMs++}-0`,
          op: 'upsert',
          id: first!.id,
          text: 'zeppelin maintenance',
          metadata: {},
          vector: vector(),
        },
      ]);
      expect((await reader.search('zeppelin', 5)).map((h) => h.id)).toEqual([first!.id]);
      await engine.apply([{ seq: `${seqMs++}-0`, op: 'delete', id: first!.id }]);
      expect(await reader.search('zeppelin', 5)).toEqual([]);
      // A word that commits on the main connection make common is left out of the next ranking.
      const rewrite = (ids: string[], text: string): ApplyEntry[] =>
        ids.map((id) => ({ seq: `${seqMs++}-0`, op: 'upsert', id, text, metadata: {}, vector: vector() }));
      await engine.apply(rewrite(['z1', 'z2'], 'zeppelin hangar'));
      expect((await reader.search('zeppelin hangar', 50)).map((h) => h.id).sort()).toEqual(['z1', 'z2']);
      const benchIds = benchDocs(0, 600).map((d) => d.id);
      await engine.apply(rewrite(benchIds.slice(0, Math.ceil(store.documentCount / 2) + 1), 'zeppelin'));
      expect(await reader.search('zeppelin hangar', 50)).toEqual(store.keyword.search('zeppelin hangar', 50));
      expect((await reader.search('zeppelin hangar', 50)).map((h) => h.id).sort()).toEqual(['z1', 'z2']);
    } finally {
      await reader.close();
      await engine.close();
    }
  });

  it('serves a keyword ranking made before a metadata change only where the document still passes the filter', async () => {
    const engine = await openEngine();
    const store = engine.store;
    try {
      const doc = (id: string, lang: string): ApplyEntry => ({
        seq: `${seqMs++}-0`,
        op: 'upsert',
        id,
        text: 'zeppelin hangar rules',
        metadata: { lang },
        vector: vector(),
      });
      await engine.apply([doc('moved', 'en'), doc('stays', 'en'), doc('other', 'de')]);
      // The ranking as a reader saw it before 'moved' became German, arriving after the commit.
      const stale = store.keyword.search('zeppelin', 10, { lang: 'en' });
      expect(stale.map((h) => h.id).sort()).toEqual(['moved', 'stays']);
      await engine.apply([doc('moved', 'de')]);
      const source = {
        store,
        factory: 'Flat',
        // biome-ignore lint/complexity/useLiteralKeys: the engine keeps its generation private
        generation: () => engine['gen'],
        keywordSearch: async () => stale,
      };
      for (const mode of ['keyword', 'hybrid'] as const) {
        const { hits } = await retrieve(source, vector(), 5, { lang: 'en' }, { mode, text: 'zeppelin' });
        expect(
          hits.map((h) => h.doc.id),
          mode,
        ).toEqual(['stays']);
      }
    } finally {
      await engine.close();
    }
  });

  it('spreads rankings over its threads, and ranks on when threads die: on the others, then on the main connection', async () => {
    // Dead threads stay dead here (replaced only a minute after their death).
    await withReader(2, 60_000, async (engine, reader) => {
      const store = engine.store;
      await engine.apply(upserts(benchDocs(0, 300)));
      const queries = benchQueries(8, 21);
      const expected = queries.map((q) => store.keyword.search(q, 10));
      const rankAll = () => {
        const answers = Promise.all(queries.map((q) => reader.search(q, 10)));
        return { load: reader.load, answers };
      };
      const both = rankAll();
      expect(both.load).toEqual([4, 4]);
      expect(await both.answers).toEqual(expected);

      await reader.crash(0);
      expect(reader.threadsAlive).toBe(1);
      expect(reader.failure).toBeNull();
      const one = rankAll();
      expect(one.load).toEqual([0, 8]);
      expect(await one.answers).toEqual(expected);

      // Rankings queued on a thread when it dies are ranked again elsewhere, not failed.
      const crashed = reader.crash(1);
      const queued = Promise.all(queries.map((q) => reader.search(q, 10)));
      expect(reader.load).toEqual([0, 8]);
      await crashed;
      expect(await queued).toEqual(expected);
      expect(reader.threadsAlive).toBe(0);
      expect(reader.failure).toBeInstanceOf(Error);
      expect(await Promise.all(queries.map((q) => reader.search(q, 10)))).toEqual(expected);
    });
  });

  it('replaces a dead thread on a later ranking, once its wait is over', async () => {
    await withReader(2, 200, async (engine, reader) => {
      const store = engine.store;
      await engine.apply(upserts(benchDocs(0, 100)));
      const query = benchQueries(1, 3)[0]!;
      const expected = store.keyword.search(query, 10);
      await reader.crash(0);
      await reader.crash(1);
      expect(reader.threadsAlive).toBe(0);
      expect(reader.failure).toBeInstanceOf(Error);
      await new Promise((r) => setTimeout(r, 250));
      expect(await reader.search(query, 10)).toEqual(expected);
      expect(reader.threadsAlive).toBe(2);
      expect(reader.failure).toBeNull();
      const ranked = Promise.all([reader.search(query, 10), reader.search(query, 10)]);
      expect(reader.load).toEqual([1, 1]);
      expect(await ranked).toEqual([expected, expected]);
    });
  });

  it("carries the engine's keyword and hybrid rankings: the same answers, none ranked on the main thread", async () => {
    const engine = await openEngine();
    try {
      await engine.apply(upserts(benchDocs(0, 400)));
      const store = engine.store;
      // The same source the engine builds, less its reader: rankings on the main connection.
      // biome-ignore lint/complexity/useLiteralKeys: the engine keeps its generation private
      const onMainThread = { store, factory: 'Flat', generation: () => engine['gen'] };
      const expected = [];
      const queries = benchQueries(12, 9);
      for (const [i, query] of queries.entries()) {
        const mode = i % 2 === 0 ? ('keyword' as const) : ('hybrid' as const);
        const v = vector();
        const want = await retrieve(onMainThread, v, 5, undefined, { mode, text: query });
        expected.push({ query, mode, v, ids: want.hits.map((h) => h.doc.id) });
      }
      const mainSearch = store.keyword.search.bind(store.keyword);
      let mainThreadRankings = 0;
      store.keyword.search = (...args) => {
        mainThreadRankings++;
        return mainSearch(...args);
      };
      for (const e of expected) {
        const got = await engine.search(e.v, 5, undefined, { mode: e.mode, text: e.query });
        expect(
          got.hits.map((h) => h.doc.id),
          `${e.mode} ${e.query}`,
        ).toEqual(e.ids);
      }
      expect(mainThreadRankings).toBe(0);
    } finally {
      await engine.close();
    }
  });
});
