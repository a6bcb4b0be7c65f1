/**
 * Main-thread side of the session worker: starts the thread (with tsx's loader when running from
 * .ts sources, under tsx and under vitest alike), matches replies to calls, and fails every call
 * in flight if the thread dies (then `onDeath` tells the embedder's supervisor).
 */
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../util/ts-worker.ts';
import { EmbedderUnavailableError } from './errors.ts';
import type { PassageSpan } from './passages.ts';
import type { Device, FromWorker, RunStat, ToWorker, WorkerInit } from './protocol.ts';

export interface WorkerReply {
  vectors: Float32Array[];
  runs: RunStat[];
  tokenizeMs: number;
  inferMs: number;
}

type LogFn = (event: string, fields: Record<string, unknown>) => void;

type Answer = Extract<FromWorker, { type: 'embedded' | 'split' | 'failed' }>;

interface Pending {
  resolve(answer: Exclude<Answer, { type: 'failed' }>): void;
  reject(err: unknown): void;
}

export class SessionWorker {
  device: Device = 'cpu';
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped: Error | null = null;

  /** Called once if the thread dies after it was ready (not on close()). */
  onDeath: (err: Error) => void = () => {};
  private ready = false;

  private constructor(
    private readonly init: WorkerInit,
    private readonly onLog: LogFn,
  ) {
    this.worker = startTsWorker(new URL('./session-worker.ts', import.meta.url), { workerData: init });
  }

  /** Resolves once the worker has loaded the tokenizer and opened the session. */
  static async start(init: WorkerInit, onLog: LogFn): Promise<SessionWorker> {
    const client = new SessionWorker(init, onLog);
    try {
      await client.listen();
    } catch (err) {
      await client.worker.terminate();
      throw err;
    }
    return client;
  }

  async embed(texts: string[]): Promise<WorkerReply> {
    const msg = await this.call({ type: 'embed', id: this.nextId++, texts });
    if (msg.type !== 'embedded') throw new Error(`embedding worker answered ${msg.type} to embed`);
    const { dimension } = this.init;
    const vectors = Array.from({ length: texts.length }, (_, i) =>
      msg.vectors.slice(i * dimension, (i + 1) * dimension),
    );
    return { vectors, runs: msg.runs, tokenizeMs: msg.tokenizeMs, inferMs: msg.inferMs };
  }

  /** Each text's passages (embedder/passages.ts), cut with the model's own tokenizer. */
  async split(texts: string[], overlapTokens: number): Promise<PassageSpan[][]> {
    const msg = await this.call({ type: 'split', id: this.nextId++, texts, overlapTokens });
    if (msg.type !== 'split') throw new Error(`embedding worker answered ${msg.type} to split`);
    return msg.spans;
  }

  private call(msg: Extract<ToWorker, { id: number }>): Promise<Exclude<Answer, { type: 'failed' }>> {
    if (this.stopped) return Promise.reject(this.stopped);
    return new Promise((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject });
      this.worker.postMessage(msg satisfies ToWorker);
    });
  }

  async close(): Promise<void> {
    this.stop(new EmbedderUnavailableError('embedder closed'));
    await this.worker.terminate();
  }

  /** Fault injection: the thread exits as if it had crashed. */
  crash(): void {
    this.worker.postMessage({ type: 'crash' } satisfies ToWorker);
  }

  private listen(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') {
          this.device = msg.device;
          this.ready = true;
          resolve();
        } else if (msg.type === 'init_failed') {
          reject(new Error(`embedding model failed to load: ${msg.message}`));
        } else if (msg.type === 'log') {
          this.onLog(msg.event, msg.fields);
        } else {
          this.settle(msg);
        }
      });
      this.worker.on('error', (err) => {
        this.onLog('embedder.worker_error', { error: err.message });
        this.stop(new EmbedderUnavailableError(`embedding worker crashed: ${err.message}`));
        reject(err);
      });
      this.worker.on('exit', (code) => {
        if (!this.stopped) this.onLog('embedder.worker_exit', { code });
        this.stop(new EmbedderUnavailableError(`embedding worker exited with code ${code}`));
        reject(this.stopped);
      });
    });
  }

  private settle(msg: Answer): void {
    const call = this.pending.get(msg.id);
    if (!call) return;
    this.pending.delete(msg.id);
    if (msg.type === 'failed') call.reject(new Error(`embedding failed: ${msg.message}`));
    else call.resolve(msg);
  }

  private stop(err: Error): void {
    if (this.stopped) return;
    this.stopped = err;
    for (const call of this.pending.values()) call.reject(err);
    this.pending.clear();
    if (this.ready && !/embedder closed/.test(err.message)) this.onDeath(err);
  }
}
