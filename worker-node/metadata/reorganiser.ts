/**
 * The node's reorganisation work on a thread of its own: a compaction's pages of live passages,
 * its renumbering of the labels, and the file of a Flat snapshot are read and written there
 * (reorganiser-worker.ts), on a second connection to the node's SQLite file, at a lower priority
 * than the threads that answer searches. The event loop only hands the pages to the new FAISS
 * index and swaps the generations, so /health and searches do not wait behind SQLite pages.
 *
 * Two writers share the file: this thread writes only the renumbering, while the engine holds
 * its apply chain, so the main connection's applies never wait for it (a snapshot's few state
 * writes may wait for one page's transaction; SQLite's busy timeout covers that). Should the
 * thread die, the next call starts another; the call that was running fails, and so does the
 * compaction or snapshot it was part of (as it would on a SQLite error).
 */
import { startTsWorker, WorkerRpc } from '../util/ts-worker.ts';
import type { LivePage } from './passage-labels.ts';

export type ReorganiserRequest =
  | { id: number; type: 'page'; afterLabel: number; limit: number }
  | { id: number; type: 'renumber'; labels: Float64Array; page: number }
  | { id: number; type: 'flat-snapshot'; path: string; dimension: number; upto: number }
  | { id: number; type: 'crash' }
  | { id: number; type: 'close' };

export type ReorganiserReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string };

type Command = ReorganiserRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

export class Reorganiser {
  private rpc: WorkerRpc<Command> | null = null;
  /** Threads started after one died. */
  restarts = 0;

  /** Starts the thread now, so that no compaction or snapshot under load pays for its start. */
  constructor(private readonly path: string) {
    this.thread();
  }

  private thread(): WorkerRpc<Command> {
    if (this.rpc) return this.rpc;
    const worker = startTsWorker(new URL('./reorganiser-worker.ts', import.meta.url), {
      workerData: { path: this.path },
    });
    // A compaction or snapshot waiting on the thread keeps the process alive; an idle thread must not.
    worker.unref();
    const rpc = new WorkerRpc<Command>(worker, 'reorganiser');
    rpc.onDeath = () => {
      if (this.rpc === rpc) this.rpc = null;
      this.restarts++;
    };
    this.rpc = rpc;
    return rpc;
  }

  /** Up to `limit` live passages with a label above `afterLabel` (PassageLabels.livePage). */
  livePage(afterLabel: number, limit: number): Promise<LivePage> {
    return this.thread().call<LivePage>({ type: 'page', afterLabel, limit });
  }

  /**
   * Renumbers the live passages (PassageLabels.renumber): `labels[i]` is the old label of the
   * passage that becomes label i. The caller ends the compaction when it swaps the index.
   */
  async renumber(labels: readonly number[], page: number): Promise<void> {
    const packed = Float64Array.from(labels);
    await this.thread().call({ type: 'renumber', labels: packed, page }, [packed.buffer]);
  }

  /** writeFlatSnapshot on the thread: the generation written, or null when a compaction got in the way. */
  flatSnapshot(path: string, dimension: number, upto: number): Promise<{ generation: number } | null> {
    return this.thread().call({ type: 'flat-snapshot', path, dimension, upto });
  }

  /** Fault injection: make the thread exit (the next call starts another). */
  crash(): void {
    void this.thread()
      .call({ type: 'crash' })
      .catch(() => undefined);
  }

  async close(): Promise<void> {
    const rpc = this.rpc;
    if (!rpc) return;
    this.rpc = null;
    await rpc.call({ type: 'close' }).catch(() => undefined);
    await rpc.terminate();
  }
}
