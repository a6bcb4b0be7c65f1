/**
 * The SIMD scan compiled into the patched faiss-node binding (scripts/setup/faiss-flat-scan.h)
 * must answer exactly as FAISS's own IndexFlatIP search: the same labels in the same order, ties
 * and unfilled slots included, scores equal up to float summation order. Both kernels are held to
 * it, the AVX2 one (when this CPU has it) and the scalar fallback a CPU without AVX2 gets.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../scripts/corpus/random.ts';

interface TypedAnswer {
  distances: Float32Array;
  labels: Float64Array;
  kernel: string;
}
interface PatchedIndex {
  addTyped(vectors: Float32Array): void;
  searchTyped(queries: Float32Array, k: number, kernel?: string): TypedAnswer;
  ntotal(): number;
}
interface PatchedFaiss {
  IndexFlatIP: new (d: number) => PatchedIndex;
  Index: { fromFactory(d: number, factory: string, metric: number): PatchedIndex };
  MetricType: { METRIC_INNER_PRODUCT: number };
  simdKernel(): 'avx2' | 'scalar';
}

const faiss = createRequire(import.meta.url)('faiss-node') as PatchedFaiss;
const kernels = faiss.simdKernel() === 'avx2' ? ['avx2', 'scalar'] : ['scalar'];
const random = mulberry32(42);

function randomVectors(count: number, d: number): Float32Array {
  return Float32Array.from({ length: count * d }, () => random() * 2 - 1);
}

function flatIndex(d: number, vectors: Float32Array): PatchedIndex {
  const index = new faiss.IndexFlatIP(d);
  index.addTyped(vectors);
  return index;
}

/** The kernel's answer against FAISS's: labels identical, scores within summation-order error. */
function expectSameAsFaiss(index: PatchedIndex, queries: Float32Array, k: number, kernel: string): void {
  const ours = index.searchTyped(queries, k, kernel);
  const theirs = index.searchTyped(queries, k, 'faiss');
  expect(ours.kernel).toBe(kernel);
  expect(Array.from(ours.labels)).toEqual(Array.from(theirs.labels));
  ours.distances.forEach((score, i) => {
    const want = theirs.distances[i]!;
    expect(Math.abs(score - want), `slot ${i}`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(want)));
  });
}

describe.each(kernels)('Flat inner-product scan, %s kernel', (kernel) => {
  it('matches IndexFlatIP on random data, whatever the dimension, batch size and k', () => {
    for (const d of [384, 100, 37]) {
      const index = flatIndex(d, randomVectors(3000, d));
      for (const nq of [1, 5, 19])
        for (const k of [1, 10, 64]) expectSameAsFaiss(index, randomVectors(nq, d), k, kernel);
    }
  });

  it('fills slots past the index size (k > ntotal) and answers an empty index as FAISS does', () => {
    const d = 16;
    const index = flatIndex(d, randomVectors(7, d));
    expectSameAsFaiss(index, randomVectors(3, d), 12, kernel);
    const answer = index.searchTyped(randomVectors(1, d), 12, kernel);
    expect(Array.from(answer.labels.slice(7))).toEqual([-1, -1, -1, -1, -1]);
    expectSameAsFaiss(new faiss.IndexFlatIP(d), randomVectors(2, d), 5, kernel);
    expect(new faiss.IndexFlatIP(d).searchTyped(randomVectors(2, d), 0, kernel).labels.length).toBe(0);
  });

  it('keeps the same labels among ties: tombstoned (zero) vectors and duplicates', () => {
    const d = 64;
    const rows = randomVectors(500, d);
    // Every third row a tombstone (all zeros), and rows 400.. copies of row 1.
    for (let r = 0; r < 500; r += 3) rows.fill(0, r * d, (r + 1) * d);
    for (let r = 400; r < 500; r++) rows.copyWithin(r * d, d, 2 * d);
    const index = flatIndex(d, rows);
    const query = randomVectors(4, d);
    query.set(rows.subarray(d, 2 * d), 0);
    // Deep enough to cut through the run of 100 equal scores and into the zeros.
    for (const k of [50, 150, 400]) expectSameAsFaiss(index, query, k, kernel);
  });
});

describe('searchTyped', () => {
  it('scans a Flat inner-product index itself below the BLAS threshold and leaves the rest to FAISS', () => {
    const d = 32;
    const flat = flatIndex(d, randomVectors(100, d));
    expect(flat.searchTyped(randomVectors(1, d), 5).kernel).toBe(faiss.simdKernel());
    expect(flat.searchTyped(randomVectors(20, d), 5).kernel).toBe('faiss');
    const hnsw = faiss.Index.fromFactory(d, 'HNSW8', faiss.MetricType.METRIC_INNER_PRODUCT);
    hnsw.addTyped(randomVectors(100, d));
    expect(hnsw.searchTyped(randomVectors(1, d), 5).kernel).toBe('faiss');
    expect(() => hnsw.searchTyped(randomVectors(1, d), 5, 'scalar')).toThrow(/Flat inner-product/);
  });

  it('refuses what is not whole Float32 vectors, and an unknown kernel', () => {
    const index = flatIndex(8, randomVectors(10, 8));
    expect(() => index.searchTyped(new Float32Array(7), 3)).toThrow(/whole vectors/);
    expect(() => index.searchTyped([1, 2] as unknown as Float32Array, 3)).toThrow(/Float32Array/);
    expect(() => index.searchTyped(new Float32Array(8), 3, 'gpu')).toThrow(/kernel must be/);
  });
});
