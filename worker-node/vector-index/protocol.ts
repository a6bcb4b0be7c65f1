/** Messages between the node's main thread and the FAISS worker thread. */

/** HNSW's search and build breadth; an unset field keeps FAISS's value (efSearch 16, efConstruction 40). */
export interface HnswParams {
  efSearch?: number;
  efConstruction?: number;
}

export type WorkerRequest =
  | { id: number; type: 'init'; dimension: number; factory: string; path?: string; hnsw?: HnswParams }
  /** Changes the HNSW settings of the live index (and of later resets); answers the ones in force. */
  | { id: number; type: 'hnsw'; hnsw: HnswParams }
  | { id: number; type: 'add'; vectors: Float32Array }
  | { id: number; type: 'search'; vectors: Float32Array; k: number }
  | { id: number; type: 'write'; path: string }
  | { id: number; type: 'serialize' }
  /** Fault injection: the thread exits as if FAISS had crashed. */
  | { id: number; type: 'crash' }
  | { id: number; type: 'reset'; factory: string };

/** Per query, k labels (-1: no vector) and scores, row after row; typed from the patched binding. */
export interface SearchReply {
  k: number;
  labels: ArrayLike<number>;
  distances: ArrayLike<number>;
}

export type WorkerReply =
  | {
      id: number;
      ok: true;
      result: Record<string, unknown> | SearchReply;
    }
  | { id: number; ok: false; error: string };

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
export type WorkerCommand = DistributiveOmit<WorkerRequest, 'id'>;
