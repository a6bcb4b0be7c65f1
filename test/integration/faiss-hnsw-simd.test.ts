/**
 * HNSW with the SIMD storage of the patched faiss-node binding (scripts/setup/faiss-hnsw-simd.h):
 * an inner-product HNSW index made by the factory, read back from a buffer or a file computes its
 * distances with the AVX2 kernel when the CPU has it, and answers like FAISS's own: scores that
 * are the true inner products, recall against an exact scan, the same answers after a round trip
 * through its serialised form, which FAISS's own reader (the SIMD storage switched off) reads too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../scripts/corpus/random.ts';

interface TypedAnswer {
  distances: Float32Array;
  labels: Float64Array;
}
interface PatchedIndex {
  addTyped(vectors: Float32Array): void;
  searchTyped(queries: Float32Array, k: number, kernel?: string): TypedAnswer;
  setHnswParams(efSearch?: number, efConstruction?: number): boolean;
  getHnswParams(): { efSearch: number; efConstruction: number; kernel: string } | null;
  toBuffer(): Buffer;
  write(path: string): void;
}
interface PatchedFaiss {
  IndexFlatIP: new (d: number) => PatchedIndex;
  Index: {
    fromFactory(d: number, factory: string, metric: number): PatchedIndex;
    fromBuffer(buffer: Buffer): PatchedIndex;
    read(path: string): PatchedIndex;
  };
  MetricType: { METRIC_INNER_PRODUCT: number; METRIC_L2: number };
  simdKernel(): 'avx2' | 'scalar';
}

const faiss = createRequire(import.meta.url)('faiss-node') as PatchedFaiss;
const expected = faiss.simdKernel() === 'avx2' ? 'avx2' : 'faiss';
const random = mulberry32(7);
const dir = mkdtempSync(join(tmpdir(), 'gte-hnsw-simd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Unit vectors around a few hundred centres: the shape of embedded documents. */
function vectors(count: number, d: number, centres = 200): Float32Array {
  const centre = Array.from({ length: centres }, () => Array.from({ length: d }, () => random() * 2 - 1));
  const out = new Float32Array(count * d);
  for (let i = 0; i < count; i++) {
    const c = centre[Math.floor(random() * centres)]!;
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const v = c[j]! + (random() * 2 - 1) * 0.6;
      out[i * d + j] = v;
      norm += v * v;
    }
    for (let j = 0; j < d; j++) out[i * d + j]! /= Math.sqrt(norm);
  }
  return out;
}

const dot = (a: Float32Array, ai: number, b: Float32Array, bi: number, d: number) => {
  let s = 0;
  for (let j = 0; j < d; j++) s += a[ai * d + j]! * b[bi * d + j]!;
  return s;
};

describe('HNSW over the SIMD storage', () => {
  const d = 96;
  const n = 4000;
  const nq = 50;
  const k = 10;
  const base = vectors(n, d);
  const queries = vectors(nq, d);
  const hnsw = faiss.Index.fromFactory(d, 'HNSW32', faiss.MetricType.METRIC_INNER_PRODUCT);
  hnsw.setHnswParams(128, 80);
  hnsw.addTyped(base);
  const flat = new faiss.IndexFlatIP(d);
  flat.addTyped(base);

  it(`computes with the ${expected} kernel and scores each hit with its true inner product`, () => {
    expect(hnsw.getHnswParams()).toEqual({ efSearch: 128, efConstruction: 80, kernel: expected });
    const answer = hnsw.searchTyped(queries, k, 'faiss');
    for (let q = 0; q < nq; q++)
      for (let r = 0; r < k; r++) {
        const label = answer.labels[q * k + r]!;
        expect(label).toBeGreaterThanOrEqual(0);
        expect(answer.distances[q * k + r]!).toBeCloseTo(dot(queries, q, base, label, d), 4);
      }
  });

  it('finds at least 95 % of the exact top 10', () => {
    const exact = flat.searchTyped(queries, k, 'faiss');
    const approx = hnsw.searchTyped(queries, k, 'faiss');
    let found = 0;
    for (let q = 0; q < nq; q++) {
      const want = new Set(Array.from(exact.labels.subarray(q * k, (q + 1) * k)));
      for (const label of approx.labels.subarray(q * k, (q + 1) * k)) if (want.has(label)) found++;
    }
    expect(found / (nq * k)).toBeGreaterThanOrEqual(0.95);
  });

  it('answers the same after a round trip through a buffer and a file, and FAISS alone reads it', () => {
    const before = hnsw.searchTyped(queries, k, 'faiss');
    const path = join(dir, 'hnsw.faiss');
    hnsw.write(path);
    for (const copy of [faiss.Index.fromBuffer(hnsw.toBuffer()), faiss.Index.read(path)]) {
      expect(copy.getHnswParams()?.kernel).toBe(expected);
      copy.setHnswParams(128);
      const after = copy.searchTyped(queries, k, 'faiss');
      expect(Array.from(after.labels)).toEqual(Array.from(before.labels));
    }
    // The same file through FAISS's own storage (the SIMD one switched off): it reads, and finds
    // the same neighbours for the first query.
    const script = `
      const f = require('faiss-node');
      const i = f.Index.read(${JSON.stringify(path)});
      i.setHnswParams(128);
      const q = Float32Array.from(${JSON.stringify(Array.from(queries.subarray(0, d)))});
      process.stdout.write(JSON.stringify({ kernel: i.getHnswParams().kernel, labels: Array.from(i.searchTyped(q, ${k}, 'faiss').labels) }));
    `;
    const child = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, GTE_FAISS_HNSW_SIMD: '0' },
      encoding: 'utf8',
    });
    expect(child.status, child.stderr).toBe(0);
    const plain = JSON.parse(child.stdout) as { kernel: string; labels: number[] };
    expect(plain.kernel).toBe('faiss');
    expect(plain.labels).toEqual(Array.from(before.labels.subarray(0, k)));
  });

  it('leaves an L2 HNSW and a plain Flat index as FAISS makes them', () => {
    const l2 = faiss.Index.fromFactory(d, 'HNSW16', faiss.MetricType.METRIC_L2);
    expect(l2.getHnswParams()?.kernel).toBe('faiss');
    expect(
      faiss.Index.fromFactory(d, 'Flat', faiss.MetricType.METRIC_INNER_PRODUCT).getHnswParams(),
    ).toBeNull();
  });
});
