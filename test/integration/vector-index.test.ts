import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VectorIndex } from '../../worker-node/vector-index/index.ts';

function unit(values: number[]): Float32Array {
  const v = Float32Array.from(values);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

describe('VectorIndex (real FAISS in a worker thread)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gte-vi-'));
  let index: VectorIndex;

  beforeAll(async () => {
    ({ index } = await VectorIndex.open({ dimension: 4, factory: 'Flat' }));
  });
  afterAll(async () => {
    await index.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers [] on an empty index and clamps k to its size', async () => {
    expect(await index.search(unit([1, 0, 0, 0]), 5)).toEqual([]);
    await index.add([
      { label: 0, vector: unit([1, 0, 0, 0]) },
      { label: 1, vector: unit([0, 1, 0, 0]) },
      { label: 2, vector: unit([1, 1, 0, 0]) },
    ]);
    const hits = await index.search(unit([1, 0, 0, 0]), 100);
    expect(hits.map((h) => h.label)).toEqual([0, 2, 1]);
    expect(hits[0]!.score).toBeCloseTo(1, 5);
    expect(hits[1]!.score).toBeCloseTo(Math.SQRT1_2, 5);
  });

  it('refuses labels that do not continue the index', async () => {
    await expect(index.add([{ label: 7, vector: unit([0, 0, 1, 0]) }])).rejects.toThrow(/out of step/);
  });

  it('coalesces concurrent searches and gives each its own answer', async () => {
    const queries = [unit([1, 0, 0, 0]), unit([0, 1, 0, 0]), unit([1, 1, 0, 0])];
    const answers = await Promise.all(queries.map((q) => index.search(q, 1)));
    expect(answers.map((a) => a[0]!.label)).toEqual([0, 1, 2]);
  });

  it('snapshots atomically and reloads the same vectors', async () => {
    const path = join(dir, 'index.faiss');
    expect(await index.snapshot(path)).toBe(3);
    const { index: reloaded, fromSnapshot } = await VectorIndex.open({
      dimension: 4,
      factory: 'Flat',
      snapshotPath: path,
    });
    try {
      expect(fromSnapshot).toBe(true);
      expect(reloaded.size).toBe(3);
      expect(await reloaded.search(unit([0, 1, 0, 0]), 3)).toEqual(await index.search(unit([0, 1, 0, 0]), 3));
    } finally {
      await reloaded.close();
    }
  });

  it('builds an HNSW index from a factory string', async () => {
    const { index: hnsw } = await VectorIndex.open({ dimension: 4, factory: 'HNSW32' });
    try {
      await hnsw.add(
        [0, 1, 2, 3].map((i) => ({
          label: i,
          vector: unit([i === 0 ? 1 : 0.01, i === 1 ? 1 : 0.01, i === 2 ? 1 : 0.01, i === 3 ? 1 : 0.01]),
        })),
      );
      expect((await hnsw.search(unit([0, 0, 1, 0]), 1))[0]!.label).toBe(2);
    } finally {
      await hnsw.close();
    }
  });
});
