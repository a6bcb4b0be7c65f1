/**
 * HNSW's efSearch and efConstruction through the node's vector index (real FAISS, with the
 * bootstrap's addition to faiss-node's binding): recall@10 against an exact Flat index rises with
 * efSearch, the settings survive a snapshot reload, and bad settings are refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hnswFromEnv } from '../../worker-node/config.ts';
import { VectorIndex } from '../../worker-node/vector-index/index.ts';

const DIM = 32;
const DOCS = 4000;
const QUERIES = 100;
const K = 10;

/** Seeded unit vectors (xorshift32): random directions are hard for HNSW, so recall shows. */
function vectors(count: number, seed: number): Float32Array[] {
  let s = seed;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296 - 0.5;
  };
  return Array.from({ length: count }, () => {
    const v = Float32Array.from({ length: DIM }, next);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
}

describe('HNSW efSearch / efConstruction', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gte-hnsw-'));
  const docs = vectors(DOCS, 12345);
  const queries = vectors(QUERIES, 987);
  let flat: VectorIndex;
  let hnsw: VectorIndex;
  let truth: Set<number>[];

  beforeAll(async () => {
    ({ index: flat } = await VectorIndex.open({ dimension: DIM, factory: 'Flat' }));
    ({ index: hnsw } = await VectorIndex.open({
      dimension: DIM,
      factory: 'HNSW8',
      hnsw: { efConstruction: 40 },
    }));
    const items = docs.map((vector, label) => ({ label, vector }));
    await flat.add(items);
    await hnsw.add(items);
    truth = await Promise.all(
      queries.map(async (q) => new Set((await flat.search(q, K)).map((h) => h.label))),
    );
  });
  afterAll(async () => {
    await Promise.all([flat.close(), hnsw.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  async function recallAt10(index: VectorIndex): Promise<number> {
    let found = 0;
    for (let i = 0; i < QUERIES; i++) {
      const hits = await index.search(queries[i]!, K);
      found += hits.filter((h) => truth[i]!.has(h.label)).length;
    }
    return found / (QUERIES * K);
  }

  it('recall@10 against Flat rises with efSearch', async () => {
    const recall: number[] = [];
    for (const efSearch of [10, 40, 160]) {
      expect(await hnsw.setHnsw({ efSearch })).toEqual({ efSearch, efConstruction: 40 });
      recall.push(await recallAt10(hnsw));
    }
    expect(recall[0]!).toBeLessThan(recall[1]!);
    expect(recall[1]!).toBeLessThan(recall[2]!);
    expect(recall[2]!).toBeGreaterThan(0.9);
    expect(recall[0]!).toBeLessThan(0.9);
  });

  it('applies the settings to an index loaded from a snapshot (which carries its own)', async () => {
    const path = join(dir, 'hnsw.faiss');
    await hnsw.setHnsw({ efSearch: 16 });
    await hnsw.snapshot(path);
    const { index, fromSnapshot } = await VectorIndex.open({
      dimension: DIM,
      factory: 'HNSW8',
      snapshotPath: path,
      hnsw: { efSearch: 99 },
    });
    try {
      expect(fromSnapshot).toBe(true);
      expect(await index.setHnsw({})).toEqual({ efSearch: 99, efConstruction: 40 });
    } finally {
      await index.close();
    }
  });

  it('answers null for a Flat index, which has nothing to tune', async () => {
    expect(await flat.setHnsw({ efSearch: 64 })).toBeNull();
  });

  it('reads HNSW_EF_SEARCH and HNSW_EF_CONSTRUCTION, refusing what is not a positive integer', () => {
    expect(hnswFromEnv({ HNSW_EF_SEARCH: '128', HNSW_EF_CONSTRUCTION: '200' })).toEqual({
      efSearch: 128,
      efConstruction: 200,
    });
    expect(hnswFromEnv({})).toEqual({ efSearch: 128, efConstruction: 128 });
    for (const bad of ['0', '-5', '1.5', 'lots', '100000'])
      expect(() => hnswFromEnv({ HNSW_EF_SEARCH: bad })).toThrow();
  });
});
