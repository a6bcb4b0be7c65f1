/**
 * Suite "exact": one exact (Flat, inner product) query against n × 384-d vectors, in one run and
 * in rotating order: the memory-bandwidth floor (a streaming sum over the same bytes), FAISS's own
 * scan (Debian's build: scalar), the SIMD scan of the patched binding (the library call the node
 * makes), and the node's search stage (VectorIndex: the hand-off to the FAISS thread and back);
 * then batches of 32, which FAISS answers with one BLAS product. Random unit vectors: a scan's
 * cost does not depend on what the vectors mean.
 */
import { createRequire } from 'node:module';
import { VectorIndex } from '../../../worker-node/vector-index/index.ts';
import { mulberry32 } from '../../corpus/random.ts';
import type { BenchContext } from '../context.ts';
import {
  formatCount,
  formatMs,
  formatRatio,
  goalVerdict,
  markdownTable,
  ratio,
  summarize,
} from '../stats.ts';
import type { Suite } from '../suite.ts';

const DIM = 384;
const K = 10;
const BATCH = 32;

/** The patched binding's additions this suite calls (scripts/setup/faiss-patch.mjs). */
export interface PatchedFaiss {
  IndexFlatIP: new (
    d: number,
  ) => {
    addTyped(vectors: Float32Array): void;
    searchTyped(queries: Float32Array, k: number, kernel?: string): { labels: Float64Array; kernel: string };
  };
  simdKernel(): string;
  streamSum(values: Float32Array): number;
  setOmpThreads?(n: number): number;
}

export function loadFaiss(): PatchedFaiss {
  return createRequire(import.meta.url)('faiss-node') as PatchedFaiss;
}

/** `count` random unit vectors of `dim` dimensions, one after another, from a seeded PRNG. */
export function unitVectors(count: number, dim: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const out = new Float32Array(count * dim);
  for (let r = 0; r < count; r++) {
    const row = out.subarray(r * dim, (r + 1) * dim);
    let norm = 0;
    for (let i = 0; i < dim; i++) {
      row[i] = random() * 2 - 1;
      norm += row[i]! * row[i]!;
    }
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < dim; i++) row[i]! *= scale;
  }
  return out;
}

/**
 * `count` unit vectors of `dim` dimensions around 1,000 centres (noise 0.6 of a centre's length),
 * built in place: neighbourhoods like an embedding's, unlike uniform noise (suites peers and
 * hnsw-scale).
 */
export function clustered(count: number, dim: number, seed: number): Float32Array {
  const centres = unitVectors(1000, dim, 7);
  const out = unitVectors(count, dim, seed);
  for (let r = 0; r < count; r++) {
    const row = out.subarray(r * dim, (r + 1) * dim);
    const c = ((r * 7919) % 1000) * dim;
    let norm = 0;
    for (let i = 0; i < dim; i++) {
      row[i] = centres[c + i]! + 0.6 * row[i]!;
      norm += row[i]! * row[i]!;
    }
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < dim; i++) row[i]! *= scale;
  }
  return out;
}

export function vectorCount(ctx: BenchContext): number {
  return ctx.vectors ?? (ctx.quick ? 20_000 : 100_000);
}

async function timed(ms: number[], call: () => unknown): Promise<void> {
  const started = performance.now();
  await call();
  ms.push(performance.now() - started);
}

export const exactSuite: Suite = {
  name: 'exact',
  title: 'Exact search against the memory-bandwidth floor',
  async run(ctx) {
    const n = vectorCount(ctx);
    const queryCount = ctx.quick ? 20 : 40;
    const rounds = ctx.quick ? 2 : 3;
    // One thread, as the node's FAISS thread runs (worker-node/main.ts sets OMP_NUM_THREADS=1);
    // OpenBLAS reads it when the binding is first loaded.
    process.env.OMP_NUM_THREADS = '1';
    // The FAISS thread at the library call's priority: this measures the hand-off, and on a shared
    // machine a lowered thread would also wait behind other processes (WORKER_THREAD_NICE).
    process.env.WORKER_THREAD_NICE = '0';
    const faiss = loadFaiss();
    faiss.setOmpThreads?.(1);
    ctx.progress(`  ${formatCount(n)} × ${DIM}-d vectors: the library index and the node's VectorIndex`);
    const base = unitVectors(n, DIM, 1);
    const queries = unitVectors(queryCount, DIM, 2);
    const library = new faiss.IndexFlatIP(DIM);
    library.addTyped(base);
    const { index: node } = await VectorIndex.open({ dimension: DIM, factory: 'Flat' });
    try {
      for (let at = 0; at < n; at += 10_000) {
        const rows = Math.min(10_000, n - at);
        await node.add(
          Array.from({ length: rows }, (_, i) => ({
            label: at + i,
            vector: base.subarray((at + i) * DIM, (at + i + 1) * DIM),
          })),
        );
      }
      const query = (q: number) => queries.subarray(q * DIM, (q + 1) * DIM);
      // The node answers what the library answers (labels; FAISS's ties included).
      let agree = 0;
      for (let q = 0; q < queryCount; q++) {
        const want = Array.from(library.searchTyped(query(q), K).labels);
        const got = (await node.search(query(q), K)).map((h) => h.label);
        if (JSON.stringify(want) === JSON.stringify(got)) agree++;
      }
      const methods: { name: string; ms: number[]; run(q: number): unknown }[] = [
        {
          name: `memory floor: streaming sum over the same ${formatCount(Math.round((n * DIM * 4) / 1e6))} MB`,
          ms: [],
          run: () => faiss.streamSum(base),
        },
        {
          name: "FAISS's own scan (Debian libfaiss 1.7.3, scalar)",
          ms: [],
          run: (q) => library.searchTyped(query(q), K, 'faiss'),
        },
        {
          name: `library call: the patched binding's ${faiss.simdKernel()} scan`,
          ms: [],
          run: (q) => library.searchTyped(query(q), K),
        },
        {
          name: "node's search stage: VectorIndex.search (FAISS thread and back)",
          ms: [],
          run: (q) => node.search(query(q), K),
        },
      ];
      const batched = { library: [] as number[], node: [] as number[] };
      for (let round = 0; round < rounds; round++) {
        ctx.progress(
          `  round ${round + 1}/${rounds}: ${queryCount} queries per method, then batches of ${BATCH}`,
        );
        for (let q = 0; q < queryCount; q++) {
          const order = [...methods.slice(q % methods.length), ...methods.slice(0, q % methods.length)];
          for (const m of order) await timed(m.ms, () => m.run(q));
        }
        const batch = unitVectors(BATCH, DIM, 100 + round);
        await timed(batched.library, () => library.searchTyped(batch, K));
        await timed(batched.node, () =>
          Promise.all(
            Array.from({ length: BATCH }, (_, i) => node.search(batch.subarray(i * DIM, (i + 1) * DIM), K)),
          ),
        );
      }
      const p50 = methods.map((m) => summarize(m.ms).p50);
      const [floor, faissScan, simd, stage] = p50 as [number, number, number, number];
      const rows = methods.map((m, i) => {
        const s = summarize(m.ms);
        return [
          m.name,
          formatMs(s.p50),
          formatMs(s.p90),
          formatRatio(ratio(p50[i]!, floor)),
          formatRatio(ratio(p50[i]!, simd)),
        ];
      });
      const perQuery = (ms: number[]) => summarize(ms).p50 / BATCH;
      rows.push(
        [
          `library call, ${BATCH} queries at once (FAISS: one BLAS product), per query`,
          formatMs(perQuery(batched.library)),
          '–',
          formatRatio(ratio(perQuery(batched.library), floor)),
          formatRatio(ratio(perQuery(batched.library), simd)),
        ],
        [
          `node, ${BATCH} concurrent searches (coalesced into one call), per query`,
          formatMs(perQuery(batched.node)),
          '–',
          formatRatio(ratio(perQuery(batched.node), floor)),
          formatRatio(ratio(perQuery(batched.node), simd)),
        ],
      );
      return [
        `${formatCount(n)} random unit vectors × ${DIM} dimensions, k = ${K}, one thread; ${rounds} round(s) of ${queryCount} queries, the methods in rotating order per query. ` +
          `The node's answers equal the library's for ${agree} of ${queryCount} queries (labels and order).`,
        '',
        markdownTable(['method', 'p50 ms', 'p90 ms', '× floor', '× library call'], rows),
        '',
        `- one query within 1.5× of the memory floor (library call, p50): ${goalVerdict(simd <= 1.5 * floor, formatRatio(ratio(simd, floor)), '≤ 1.50×')}`,
        `- the node's search stage within 1.2× of the library call (p50): ${goalVerdict(stage <= 1.2 * simd, formatRatio(ratio(stage, simd)), '≤ 1.20×')}`,
        `- FAISS's own scan against the SIMD scan: ${formatRatio(ratio(faissScan, simd))} the time`,
      ].join('\n');
    } finally {
      await node.close();
    }
  },
};
