/**
 * Runs FAISS in a worker thread: faiss-node's search and add are synchronous C++ calls that would
 * otherwise stall the node's event loop (and its /health answers) for milliseconds at a time.
 *
 * Messages are handled strictly in order, so a `write` sees every `add` sent before it.
 */
import { parentPort } from 'node:worker_threads';
import { renameSync, openSync, fsyncSync, closeSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { HnswParams, WorkerReply, WorkerRequest } from './protocol.ts';
import { yieldToEventLoop } from '../util/thread-priority.ts';

// Before FAISS starts an OpenMP team: its threads inherit this thread's priority.
yieldToEventLoop();

const require = createRequire(import.meta.url);
const faiss = require('faiss-node') as typeof import('faiss-node');

let index: import('faiss-node').Index | null = null;
let dimension = 0;
let hnswParams: HnswParams = {};
let factoryName = 'Flat';

/** The bootstrap compiles faiss-node with these two methods (scripts/setup/faiss-patch.mjs). */
interface HnswMethods {
  setHnswParams?(efSearch?: number, efConstruction?: number): boolean;
  getHnswParams?(): { efSearch: number; efConstruction: number } | null;
}

/**
 * Typed-array search and add from the patched binding (scripts/setup/faiss-patch.mjs): no
 * per-number conversion through JS arrays, and a Flat inner-product index scanned with SIMD
 * kernels. Absent only from a binding built before them (`npm run setup` rebuilds it).
 */
interface TypedMethods {
  searchTyped?(queries: Float32Array, k: number): { distances: Float32Array; labels: Float64Array };
  addTyped?(vectors: Float32Array): void;
}

/** The OpenMP team FAISS's loops get by default (one thread per core), from the patched binding. */
const omp = faiss as unknown as { setOmpThreads?(n: number): number; getOmpThreads?(): number };
const ompThreads = omp.getOmpThreads?.() ?? 1;

/** Applies the settings to an HNSW index (a snapshot carries the values it was written with). */
function applyHnsw(target: import('faiss-node').Index): HnswParams | null {
  const methods = target as unknown as HnswMethods;
  if (!methods.getHnswParams) {
    if (factoryName.startsWith('HNSW') && (hnswParams.efSearch ?? hnswParams.efConstruction) !== undefined)
      throw new Error('this faiss-node build cannot set efSearch; run `npm run setup` to rebuild it');
    return null;
  }
  if (!methods.getHnswParams()) return null;
  methods.setHnswParams!(hnswParams.efSearch ?? -1, hnswParams.efConstruction ?? -1);
  // (The binding also says which distance kernel the index computes with: not a setting.)
  const { efSearch, efConstruction } = methods.getHnswParams()!;
  return { efSearch, efConstruction };
}

function create(dim: number, factory: string): import('faiss-node').Index {
  return factory === 'Flat'
    ? new faiss.IndexFlatIP(dim)
    : faiss.Index.fromFactory(dim, factory, faiss.MetricType.METRIC_INNER_PRODUCT);
}

function handle(msg: WorkerRequest): Record<string, unknown> {
  switch (msg.type) {
    case 'init': {
      dimension = msg.dimension;
      hnswParams = msg.hnsw ?? {};
      factoryName = msg.factory;
      index = null;
      if (msg.path && existsSync(msg.path)) {
        try {
          const loaded = faiss.Index.read(msg.path);
          if (loaded.getDimension() === msg.dimension) index = loaded;
        } catch {
          index = null; // an unreadable snapshot is rebuilt from SQLite by the caller
        }
      }
      const fromSnapshot = index !== null;
      index ??= create(msg.dimension, msg.factory);
      return { ntotal: index.ntotal(), fromSnapshot, hnsw: applyHnsw(index) };
    }
    case 'hnsw': {
      hnswParams = { ...hnswParams, ...msg.hnsw };
      return { hnsw: applyHnsw(index!) };
    }
    case 'add': {
      const n = msg.vectors.length / dimension;
      const typed = index as unknown as TypedMethods;
      if (n > 0 && typed.addTyped) typed.addTyped(msg.vectors);
      else if (n > 0) index!.add(Array.from(msg.vectors));
      return { ntotal: index!.ntotal() };
    }
    case 'search': {
      const ntotal = index!.ntotal();
      const k = Math.min(msg.k, ntotal);
      if (k === 0) return { k: 0, labels: [], distances: [] };
      const nq = msg.vectors.length / dimension;
      // HNSW parallelises over queries only: for fewer queries than cores, the idle members of the
      // OpenMP team cost a single query 2-3x at p50 and 10x at p90 on a busy machine (measured).
      const narrow = factoryName.startsWith('HNSW') && nq < ompThreads && omp.setOmpThreads;
      if (narrow) omp.setOmpThreads!(nq);
      try {
        const typed = index as unknown as TypedMethods;
        if (typed.searchTyped) return { k, ...typed.searchTyped(msg.vectors, k) };
        const r = index!.search(Array.from(msg.vectors), k);
        return { k, labels: r.labels, distances: r.distances };
      } finally {
        if (narrow) omp.setOmpThreads!(ompThreads);
      }
    }
    case 'write': {
      const tmp = `${msg.path}.tmp`;
      index!.write(tmp);
      const fd = openSync(tmp, 'r');
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, msg.path);
      return { ntotal: index!.ntotal() };
    }
    case 'serialize': {
      // The search thread is busy only for this in-memory copy; the caller writes it to disk.
      const buf = index!.toBuffer();
      const bytes =
        buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength
          ? buf.buffer
          : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      return { ntotal: index!.ntotal(), bytes };
    }
    case 'crash':
      return process.exit(70);
    case 'reset': {
      factoryName = msg.factory;
      index = create(dimension, msg.factory);
      applyHnsw(index);
      return { ntotal: 0 };
    }
  }
}

parentPort!.on('message', (msg: WorkerRequest) => {
  try {
    const result = handle(msg);
    // A serialised index and search answers are handed over, not copied through structured clone.
    const transfer = [result.bytes, result.labels, result.distances].flatMap((v) =>
      v instanceof ArrayBuffer ? [v] : ArrayBuffer.isView(v) ? [v.buffer as ArrayBuffer] : [],
    );
    parentPort!.postMessage({ id: msg.id, ok: true, result } satisfies WorkerReply, transfer);
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, error: (err as Error).message } satisfies WorkerReply);
  }
});
