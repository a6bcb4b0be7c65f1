/**
 * Messages between the embedder (main thread) and its session worker thread, typed once here so
 * that both ends agree. Vectors travel as one transferred Float32Array per call (no copy).
 */
import type { PassageSpan } from './passages.ts';
import type { Pooling } from './pooling.ts';

export type Device = 'cpu' | 'cuda';

export interface WorkerInit {
  onnxPath: string;
  tokenizerPath: string;
  device: Device;
  threads?: number;
  pooling: Pooling;
  maxLength: number;
  dimension: number;
  maxBatchTokens: number;
}

/** One ONNX session run. */
export interface RunStat {
  size: number;
  seqLen: number;
  ms: number;
}

/** `crash` ends the thread on purpose: fault injection proves that supervision works. */
export type ToWorker =
  | { type: 'embed'; id: number; texts: string[] }
  /** Each text's passages, cut with the real tokenizer (passages.ts). */
  | { type: 'split'; id: number; texts: string[]; overlapTokens: number }
  | { type: 'crash' };

export type FromWorker =
  | { type: 'ready'; device: Device }
  | { type: 'init_failed'; message: string }
  | { type: 'log'; event: string; fields: Record<string, unknown> }
  /** `vectors` is texts.length × dimension, row i for texts[i]. */
  | {
      type: 'embedded';
      id: number;
      vectors: Float32Array;
      runs: RunStat[];
      tokenizeMs: number;
      inferMs: number;
    }
  | { type: 'split'; id: number; spans: PassageSpan[][] }
  | { type: 'failed'; id: number; message: string };
