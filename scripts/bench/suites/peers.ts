/**
 * Suite "peers": the node's FAISS indexes (Flat with the patched binding's SIMD scan, HNSW32 with
 * efSearch set) against usearch, hnswlib-node and LanceDB on the same vectors, in one process and
 * one run: build time, memory, queries/s at batch 1 and 32, recall@10 against the exact answers.
 * The peers are bench-only devDependencies; their native parts are built on first use
 * (peer-addons.ts), and a peer that cannot be loaded is reported with the reason, not skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from '../context.ts';
import { formatCount, formatRatio, markdownTable, ratio } from '../stats.ts';
import type { Suite } from '../suite.ts';
import { clustered, loadFaiss, vectorCount } from './exact.ts';
import { loadPeerAddon } from './peer-addons.ts';

const DIM = 384;
const K = 10;
const BATCH = 32;
const M = 32;
const EF_CONSTRUCTION = 128;
const EF_SEARCH = 128;
const require = createRequire(import.meta.url);

/** One contender: built once, then asked single queries and batches of BATCH. */
interface Contender {
  name: string;
  build(): Promise<void> | void;
  search(query: Float32Array): Promise<number[]> | number[];
  searchBatch(queries: Float32Array[]): Promise<number[][]> | number[][];
  close?(): Promise<void> | void;
}

interface Row {
  name: string;
  buildMs: number;
  rssMb: number;
  qps1: number;
  qps32: number;
  recall: number;
  note?: string;
}

const rows = (flat: Float32Array) =>
  Array.from({ length: flat.length / DIM }, (_, i) => flat.subarray(i * DIM, (i + 1) * DIM));

function contenders(base: Float32Array): Array<Contender | { name: string; missing: string }> {
  const n = base.length / DIM;
  const faiss = loadFaiss() as ReturnType<typeof loadFaiss> & {
    Index: { fromFactory(d: number, f: string, m: number): FaissIndex };
    MetricType: { METRIC_INNER_PRODUCT: number };
  };
  type FaissIndex = {
    addTyped(v: Float32Array): void;
    searchTyped(q: Float32Array, k: number): { labels: Float64Array };
    setHnswParams?(efSearch: number, efConstruction: number): boolean;
    getHnswParams?(): { kernel?: string } | null;
  };
  const faissSearch = (index: () => FaissIndex) => ({
    search: (q: Float32Array) => Array.from(index().searchTyped(q, K).labels),
    searchBatch: (qs: Float32Array[]) => {
      const flat = new Float32Array(qs.length * DIM);
      qs.forEach((q, i) => flat.set(q, i * DIM));
      const labels = Array.from(index().searchTyped(flat, K).labels);
      return qs.map((_, i) => labels.slice(i * K, (i + 1) * K));
    },
  });
  let flat: FaissIndex;
  const hnswContender = (simd: boolean): Contender => {
    let hnsw: FaissIndex;
    const label = (kernel?: string) =>
      `FAISS HNSW${M} (${simd ? 'node' : 'FAISS’s own distances'}${kernel ? `: ${kernel}` : ''}; efConstruction ${EF_CONSTRUCTION}, efSearch ${EF_SEARCH})`;
    const contender: Contender = {
      name: label(),
      build: () => {
        // The binding reads GTE_FAISS_HNSW_SIMD as it makes the index (scripts/setup/faiss-hnsw-simd.h).
        if (!simd) process.env.GTE_FAISS_HNSW_SIMD = '0';
        try {
          hnsw = faiss.Index.fromFactory(DIM, `HNSW${M}`, faiss.MetricType.METRIC_INNER_PRODUCT);
        } finally {
          delete process.env.GTE_FAISS_HNSW_SIMD;
        }
        hnsw.setHnswParams!(EF_SEARCH, EF_CONSTRUCTION);
        hnsw.addTyped(base);
        // Named once built: the binding says which distance kernel the index got.
        contender.name = label(hnsw.getHnswParams?.()?.kernel);
      },
      ...faissSearch(() => hnsw),
    };
    return contender;
  };
  const out: Array<Contender | { name: string; missing: string }> = [
    {
      name: `FAISS Flat (node; ${faiss.simdKernel()} scan below 20 queries, BLAS from 20)`,
      build: () => {
        flat = new faiss.IndexFlatIP(DIM) as unknown as FaissIndex;
        flat.addTyped(base);
      },
      ...faissSearch(() => flat),
    },
    hnswContender(true),
    // FAISS's scalar build is the slowest of all (minutes at 20,000): compared up to 50,000 only.
    ...(n <= 50_000 ? [hnswContender(false)] : []),
  ];

  const hnswlib = loadPeerAddon('hnswlib-node', { buildUnasked: true });
  if ('missing' in hnswlib) out.push({ name: 'hnswlib-node', missing: hnswlib.missing });
  else {
    // biome-ignore lint/suspicious/noExplicitAny: the peer's own types are not needed for a benchmark
    let index: any;
    const one = (q: Float32Array) => index.searchKnn(Array.from(q), K).neighbors as number[];
    out.push({
      name: `hnswlib-node 3.0 (M ${M}, efConstruction ${EF_CONSTRUCTION}, ef ${EF_SEARCH})`,
      build: () => {
        const { HierarchicalNSW } = hnswlib.module as {
          HierarchicalNSW: new (s: string, d: number) => unknown;
        };
        index = new HierarchicalNSW('ip', DIM);
        index.initIndex(n, M, EF_CONSTRUCTION, 100);
        rows(base).forEach((v, label) => index.addPoint(Array.from(v), label));
        index.setEf(EF_SEARCH);
      },
      search: one,
      searchBatch: (qs) => qs.map(one),
    });
  }

  const usearch = loadPeerAddon('usearch', { buildUnasked: false });
  if ('missing' in usearch) out.push({ name: 'usearch', missing: usearch.missing });
  else {
    // biome-ignore lint/suspicious/noExplicitAny: the peer's own types are not needed for a benchmark
    const lib = usearch.module as any;
    // biome-ignore lint/suspicious/noExplicitAny: as above
    let index: any;
    const keys = (ks: BigUint64Array) => Array.from(ks, Number);
    out.push({
      name: `usearch 2.26 HNSW (connectivity ${M}, expansion_add ${EF_CONSTRUCTION}, expansion_search ${EF_SEARCH})`,
      build: () => {
        index = new lib.Index({
          dimensions: DIM,
          metric: 'ip',
          connectivity: M,
          expansion_add: EF_CONSTRUCTION,
          expansion_search: EF_SEARCH,
        });
        index.add(
          BigUint64Array.from({ length: n }, (_, i) => BigInt(i)),
          base,
          1,
        );
      },
      search: (q) => keys(index.search(q, K, 1).keys),
      searchBatch: (qs) => {
        const all = keys(index.search(qs, K, 1).keys);
        return qs.map((_, i) => all.slice(i * K, (i + 1) * K));
      },
    });
    out.push({
      name: 'usearch 2.26 exactSearch (brute force)',
      build: () => undefined,
      // Copies: exactSearch reads a query view from the start of its buffer, not from its offset.
      search: (q) => keys(lib.exactSearch(base, q.slice(), DIM, K, 'ip', 1).keys),
      searchBatch: (qs) => {
        const all = keys(
          lib.exactSearch(
            base,
            qs.map((q) => q.slice()),
            DIM,
            K,
            'ip',
            1,
          ).keys,
        );
        return qs.map((_, i) => all.slice(i * K, (i + 1) * K));
      },
    });
  }

  let lancedb: { module: unknown } | { missing: string };
  try {
    lancedb = { module: require('@lancedb/lancedb') };
  } catch (err) {
    lancedb = { missing: (err as Error).message.split('\n')[0]! };
  }
  if ('missing' in lancedb) out.push({ name: '@lancedb/lancedb', missing: lancedb.missing });
  else {
    // biome-ignore lint/suspicious/noExplicitAny: as above
    const lib = lancedb.module as any;
    const dir = mkdtempSync(join(tmpdir(), 'gte-lancedb-'));
    // biome-ignore lint/suspicious/noExplicitAny: as above
    let table: any;
    const one = async (q: Float32Array) =>
      ((await table.search(q).distanceType('dot').limit(K).select(['id']).toArray()) as { id: number }[]).map(
        (r) => r.id,
      );
    out.push({
      name: 'LanceDB 0.31 (no vector index: its exact scan)',
      build: async () => {
        const db = await lib.connect(dir);
        const data = rows(base).map((v, id) => ({ id, vector: Array.from(v) }));
        table = await db.createTable('vectors', data);
      },
      search: one,
      searchBatch: async (qs) => {
        const out2: number[][] = [];
        for (const q of qs) out2.push(await one(q));
        return out2;
      },
      close: () => rmSync(dir, { recursive: true, force: true }),
    });
  }
  return out;
}

async function measure(c: Contender, queries: Float32Array[], exact: number[][]): Promise<Row> {
  const rssBefore = process.memoryUsage().rss;
  let started = performance.now();
  await c.build();
  const buildMs = performance.now() - started;
  const rssMb = (process.memoryUsage().rss - rssBefore) / 1e6;
  let hits = 0;
  started = performance.now();
  for (const [i, q] of queries.entries()) {
    const got = new Set(await c.search(q));
    hits += exact[i]!.filter((l) => got.has(l)).length;
  }
  const qps1 = queries.length / ((performance.now() - started) / 1000);
  started = performance.now();
  for (let i = 0; i + BATCH <= queries.length; i += BATCH) await c.searchBatch(queries.slice(i, i + BATCH));
  const batched = Math.floor(queries.length / BATCH) * BATCH;
  const qps32 = batched / ((performance.now() - started) / 1000);
  await c.close?.();
  return { name: c.name, buildMs, rssMb, qps1, qps32, recall: hits / (queries.length * K) };
}

export const peersSuite: Suite = {
  name: 'peers',
  title: 'Vector indexes side by side: FAISS (node) against usearch, hnswlib-node and LanceDB',
  async run(ctx: BenchContext) {
    process.env.OMP_NUM_THREADS = '1';
    const n = vectorCount(ctx);
    const queryCount = ctx.quick ? 64 : 256;
    ctx.progress(`  ${formatCount(n)} clustered unit vectors × ${DIM}-d, ${queryCount} queries`);
    const base = clustered(n, DIM, 11);
    const queries = rows(clustered(queryCount, DIM, 12));
    const all = contenders(base);
    const results: Row[] = [];
    const missing: string[] = [];
    let exact: number[][] = [];
    for (const c of all) {
      if ('missing' in c) {
        missing.push(`- **${c.name}** could not be loaded: ${c.missing}`);
        continue;
      }
      ctx.progress(`  ${c.name}: build, then ${queryCount} queries one at a time and in batches of ${BATCH}`);
      // The first contender is exact (FAISS Flat): its answers are the ground truth.
      if (exact.length === 0) {
        await c.build();
        exact = [];
        for (const q of queries) exact.push(await c.search(q));
      }
      results.push(await measure(c, queries, exact));
    }
    const flat = results[0]!;
    const hnsw = results[1]!;
    const table = results.map((r) => [
      r.name,
      (r.buildMs / 1000).toFixed(1),
      formatCount(Math.max(0, Math.round(r.rssMb))),
      formatCount(r.qps1),
      formatCount(r.qps32),
      r.recall.toFixed(3),
      formatRatio(ratio(r.qps1, flat.qps1)),
      formatRatio(ratio(r.qps1, hnsw.qps1)),
    ]);
    return [
      `${formatCount(n)} clustered unit vectors × ${DIM} dimensions (1,000 centres), ${queryCount} queries, k = ${K}, inner product, one thread everywhere the library lets it be set ` +
        '(LanceDB picks its own). Recall@10 against FAISS Flat (exact). "RSS growth" is the process\'s resident memory added by the build: an approximation (freed memory is not always returned).',
      '',
      markdownTable(
        [
          'index',
          'build s',
          'RSS growth MB',
          'queries/s, batch 1',
          'queries/s, batch 32',
          'recall@10',
          'batch 1 × Flat',
          'batch 1 × FAISS HNSW',
        ],
        table,
      ),
      ...(missing.length > 0 ? ['', ...missing] : []),
    ].join('\n');
  },
};
