/**
 * Runs FAISS in a worker thread: faiss-node's search and add are synchronous C++ calls that would
 * otherwise stall the node's event loop (and its /health answers) for milliseconds at a time.
 *
 * Messages are handled strictly in order, so a `write` sees every `add` sent before it.
 */
import { parentPort } from 'node:worker_threads';
import { renameSync, openSync, fsyncSync, closeSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { WorkerRequest, WorkerReply } from './protocol.ts';

const require = createRequire(import.meta.url);
const faiss = require('faiss-node') as typeof import('faiss-node');

let index: import('faiss-node').Index | null = null;
let dimension = 0;

function create(dim: number, factory: string): import('faiss-node').Index {
  return factory === 'Flat'
    ? new faiss.IndexFlatIP(dim)
    : faiss.Index.fromFactory(dim, factory, faiss.MetricType.METRIC_INNER_PRODUCT);
}

function handle(msg: WorkerRequest): Record<string, unknown> {
  switch (msg.type) {
    case 'init': {
      dimension = msg.dimension;
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
      return { ntotal: index.ntotal(), fromSnapshot };
    }
    case 'add': {
      const n = msg.vectors.length / dimension;
      if (n > 0) index!.add(Array.from(msg.vectors));
      return { ntotal: index!.ntotal() };
    }
    case 'search': {
      const ntotal = index!.ntotal();
      const k = Math.min(msg.k, ntotal);
      if (k === 0) return { k: 0, labels: [], distances: [] };
      const r = index!.search(Array.from(msg.vectors), k);
      return { k, labels: r.labels, distances: r.distances };
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
      index = create(dimension, msg.factory);
      return { ntotal: 0 };
    }
  }
}

parentPort!.on('message', (msg: WorkerRequest) => {
  try {
    const result = handle(msg);
    // A serialised index is handed over, not copied again through structured clone.
    const transfer = result.bytes instanceof ArrayBuffer ? [result.bytes] : [];
    parentPort!.postMessage({ id: msg.id, ok: true, result } satisfies WorkerReply, transfer);
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, error: (err as Error).message } satisfies WorkerReply);
  }
});
