/**
 * The Flat index snapshot written from SQLite (worker-node/flat-snapshot.ts): byte for byte what
 * FAISS itself writes for the same index, loadable by FAISS, written without asking the FAISS
 * thread for anything (so its searches never pause for it), abandoned cleanly when a compaction
 * renumbers the labels meanwhile, and what a restarted engine opens from.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mulberry32 } from '../../scripts/corpus/random.ts';
import { waitFor } from '../../scripts/cluster/wait.ts';
import { SearchEngine } from '../../worker-node/engine.ts';
import { flatIpHeader, writeFlatSnapshot } from '../../worker-node/flat-snapshot.ts';
import type { ApplyEntry } from '../../worker-node/metadata/store.ts';
import { VectorIndex } from '../../worker-node/vector-index/index.ts';

const require = createRequire(import.meta.url);
const faiss = require('faiss-node') as typeof import('faiss-node');

const DIM = 8;
const model = { id: 'test-model', checksum: 'c0ffee', dimension: DIM };
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'gte-flat-snapshot-'));
  dirs.push(d);
  return d;
}

const random = mulberry32(23);
function unitVector(): Float32Array {
  const v = Float32Array.from({ length: DIM }, () => random() * 2 - 1);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

let seqMs = 1;
function upserts(ids: string[]): ApplyEntry[] {
  return ids.map((id) => ({
    seq: `${seqMs++}-0`,
    op: 'upsert',
    id,
    text: `text of ${id}`,
    metadata: {},
    vector: unitVector(),
  }));
}

/** An engine with `n` documents, a few of them rewritten (their old labels are tombstones). */
async function engineWithTombstones(dataDir: string, n: number): Promise<SearchEngine> {
  const engine = await SearchEngine.open({
    dataDir,
    model,
    factory: 'Flat',
    compaction: { ratio: Number.POSITIVE_INFINITY, minTombstones: Number.POSITIVE_INFINITY },
  });
  const ids = Array.from({ length: n }, (_, i) => `doc-${i}`);
  for (let i = 0; i < n; i += 500) await engine.apply(upserts(ids.slice(i, i + 500)));
  await engine.apply(upserts(ids.filter((_, i) => i % 7 === 3)));
  await engine.apply([{ seq: `${seqMs++}-0`, op: 'delete', id: 'doc-5' }]);
  return engine;
}

describe('Flat snapshot from SQLite', () => {
  it('has FAISS IndexFlatIP header layout', () => {
    const empty = new faiss.IndexFlatIP(DIM);
    expect(Buffer.from(flatIpHeader(DIM, 0))).toEqual(Buffer.from(empty.toBuffer()));
  });

  it('is byte for byte the file FAISS writes for the same vectors, tombstones as zero vectors', async () => {
    const dataDir = tempDir();
    const engine = await engineWithTombstones(dataDir, 2600);
    try {
      const store = engine.store;
      const upto = store.nextLabel;
      const path = join(dataDir, 'written.faiss');
      expect(await writeFlatSnapshot(store.labels, path, DIM, upto)).toEqual({
        generation: store.generation,
      });

      const expected = new faiss.IndexFlatIP(DIM);
      const page = store.labels.livePage(-1, upto);
      const byLabel = new Map(
        page.labels.map((label, i) => [label, page.vectors.subarray(i * DIM, (i + 1) * DIM)]),
      );
      const flat: number[] = [];
      for (let label = 0; label < upto; label++) flat.push(...(byLabel.get(label) ?? new Float32Array(DIM)));
      expected.add(flat);
      expect(byLabel.size).toBeLessThan(upto); // there were tombstones to fill
      expect(readFileSync(path).equals(Buffer.from(expected.toBuffer()))).toBe(true);

      // FAISS's read_index loads it (in a FAISS worker, as the node does) and answers alike.
      const { index, fromSnapshot } = await VectorIndex.open({
        dimension: DIM,
        factory: 'Flat',
        snapshotPath: path,
      });
      try {
        expect(fromSnapshot).toBe(true);
        expect(index.size).toBe(upto);
        const query = unitVector();
        const want = expected.search(Array.from(query), 10);
        const got = await index.search(query, 10);
        expect(got.map((h) => h.label)).toEqual(want.labels);
        got.forEach((h, i) => expect(h.score).toBeCloseTo(want.distances[i]!, 5));
      } finally {
        await index.close();
      }
    } finally {
      await engine.close();
    }
  });

  it('never asks the FAISS thread to serialise, and a restarted engine opens from it', async () => {
    const dataDir = tempDir();
    const engine = await engineWithTombstones(dataDir, 1200);
    const serialize = vi.spyOn(VectorIndex.prototype, 'serialize');
    const query = unitVector();
    let before: string[];
    try {
      expect(await engine.snapshot()).toBe(true);
      expect(serialize).not.toHaveBeenCalled();
      expect(await engine.snapshot()).toBe(false); // nothing changed since
      before = (await engine.search(query, 10, undefined, { mode: 'vector' })).hits.map((h) => h.doc.id);
    } finally {
      serialize.mockRestore();
      await engine.close();
    }
    const logs: Record<string, unknown>[] = [];
    const reopened = await SearchEngine.open({
      dataDir,
      model,
      factory: 'Flat',
      onLog: (event, f) => {
        if (event === 'index.loaded') logs.push(f);
      },
    });
    try {
      expect(logs[0]).toMatchObject({ from_snapshot: true, added_from_store: 0 });
      const after = (await reopened.search(query, 10, undefined, { mode: 'vector' })).hits.map(
        (h) => h.doc.id,
      );
      expect(after).toEqual(before);
      expect(after).not.toContain('doc-5');
    } finally {
      await reopened.close();
    }
  });

  it('gives up when a compaction is renumbering the labels, and leaves no partial file', async () => {
    const dataDir = tempDir();
    const engine = await engineWithTombstones(dataDir, 5000);
    try {
      const path = join(dataDir, 'raced.faiss');
      const compaction = engine.compact();
      await waitFor(
        'the compaction to start renumbering',
        () => engine.store.compactionInterrupted,
        30_000,
        1,
      );
      expect(await writeFlatSnapshot(engine.store.labels, path, DIM, engine.store.nextLabel)).toBeNull();
      await compaction;
      expect(existsSync(path)).toBe(false);
      expect(existsSync(`${path}.tmp`)).toBe(false);
      // The next snapshot, of the new generation, is written.
      expect(await engine.snapshot()).toBe(true);
    } finally {
      await engine.close();
    }
  });

  it('gives up when labels start being renumbered between two pages', async () => {
    const dataDir = tempDir();
    const engine = await engineWithTombstones(dataDir, 3000);
    try {
      const store = engine.store;
      let pages = 0;
      // The second page read finds a renumbering begun after the first (as a compaction would).
      const racing = new Proxy(store.labels, {
        get(target, prop) {
          if (prop !== 'vectorBytesAfter') return Reflect.get(target, prop, target);
          return (after: number, limit: number) => {
            if (++pages === 2) target.beginCompaction();
            return target.vectorBytesAfter(after, limit);
          };
        },
      });
      const path = join(dataDir, 'raced.faiss');
      expect(await writeFlatSnapshot(racing, path, DIM, store.nextLabel)).toBeNull();
      expect(pages).toBe(2);
      expect(existsSync(path)).toBe(false);
      expect(existsSync(`${path}.tmp`)).toBe(false);
    } finally {
      await engine.close();
    }
  });
});
