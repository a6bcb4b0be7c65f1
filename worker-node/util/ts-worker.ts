/**
 * Starts a worker thread from a TypeScript module. The node runs its sources through tsx (no
 * build step), so a `.ts` worker needs the tsx loader in its own execArgv; a compiled `.js`
 * worker needs nothing.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startTsWorker(url: URL, options: WorkerOptions = {}): Worker {
  // Compiled builds ship session-worker.js next to this file; sources run through tsx.
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(url.href.replace(/\.ts$/, '.js')), options);
  // `execArgv: ['--import', 'tsx']` does not reach a worker's entry module on Node 20, so the
  // worker starts from a tiny ESM stub that registers tsx's loader and then imports the module.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const stub = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(url.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(stub)}`), options);
}

/** Request/reply over a worker's message port, matched by id, answered in order. */
export class WorkerRpc<Req extends { type: string }, Res = unknown> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: Res) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;
  private terminating = false;
  /** Called once when the thread dies on its own (not after terminate()). */
  onDeath: (err: Error) => void = () => {};

  constructor(
    readonly worker: Worker,
    name: string,
  ) {
    worker.on('message', (msg: { id: number; ok: boolean; result?: Res; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result as Res);
      else p.reject(new Error(`${name}: ${msg.error}`));
    });
    const failAll = (err: Error) => {
      if (this.dead) return;
      this.dead = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      if (!this.terminating) this.onDeath(err);
    };
    worker.on('error', (err) => failAll(new Error(`${name} worker crashed: ${err.message}`)));
    worker.on('exit', (code) => failAll(new Error(`${name} worker exited with code ${code}`)));
  }

  call<R = Res>(req: Req, transfer: ArrayBuffer[] = []): Promise<R> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: Res) => void, reject });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }

  async terminate(): Promise<void> {
    this.terminating = true;
    await this.worker.terminate();
  }
}
