/**
 * Keyword ranking off the main thread: the BM25 query of keyword and hybrid searches runs in a
 * worker thread (keyword-reader-worker.ts) on its own read-only connection, so the event loop
 * stays free for /health, the apply path and the other searches' short steps.
 *
 * Only the ranking moves. The caller still reads the documents it returns on the main
 * connection, so a document deleted after the ranking is dropped, never served. There may be
 * several threads (KEYWORD_READERS), each with its connection. Should a thread die, the others
 * rank; should all die, rankings run on the main connection (correct, only slower) and the reader
 * says so.
 */
import type { MetadataFilter } from '../../shared/search-filter.ts';
import { startTsWorker, WorkerRpc } from '../util/ts-worker.ts';
import type { KeywordSearchOptions, KeywordTables, RankedId } from './keyword-tables.ts';

export type KeywordReaderRequest =
  | {
      id: number;
      type: 'search';
      text: string;
      limit: number;
      filter?: MetadataFilter;
      options: KeywordSearchOptions;
      documentCount: number;
    }
  | { id: number; type: 'close' }
  /** Fault injection: the thread exits at once. */
  | { id: number; type: 'crash' };

export type KeywordReaderReply =
  | { id: number; ok: true; result: RankedId[] }
  | { id: number; ok: false; error: string };

type Command = KeywordReaderRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

interface ReaderThread {
  rpc: WorkerRpc<Command, RankedId[]>;
  /** Rankings asked of it and not answered yet. */
  busy: number;
  dead: boolean;
}

export class KeywordReader {
  /** Set once every thread died: rankings have fallen back to the main connection. */
  failure: Error | null = null;
  private readonly threads: ReaderThread[];

  private constructor(
    rpcs: WorkerRpc<Command, RankedId[]>[],
    private readonly local: KeywordTables,
    private readonly documentCount: () => number,
  ) {
    this.threads = rpcs.map((rpc) => ({ rpc, busy: 0, dead: false }));
    for (const t of this.threads)
      t.rpc.onDeath = (err) => {
        t.dead = true;
        if (this.threads.every((other) => other.dead)) this.failure = err;
      };
  }

  /**
   * Starts `threads` reader threads on the database at `path` (each ranking goes to the least
   * busy; one query at a time each, so more threads rank more queries at once on more cores);
   * `local` is the main connection's keyword tables.
   */
  static open(path: string, local: KeywordTables, documentCount: () => number, threads = 1): KeywordReader {
    const rpcs = Array.from({ length: Math.max(1, threads) }, () => {
      const worker = startTsWorker(new URL('./keyword-reader-worker.ts', import.meta.url), {
        workerData: { path },
      });
      // A search waiting on the reader keeps the process alive; an idle reader must not.
      worker.unref();
      return new WorkerRpc<Command, RankedId[]>(worker, 'keyword reader');
    });
    return new KeywordReader(rpcs, local, documentCount);
  }

  /** Rankings in flight on each thread (0 for a dead one). */
  get load(): number[] {
    return this.threads.map((t) => (t.dead ? 0 : t.busy));
  }

  /** How many reader threads are alive. */
  get threadsAlive(): number {
    return this.threads.filter((t) => !t.dead).length;
  }

  /** Fault injection: thread `i` exits; resolves once the reader has seen it go. */
  async crash(i: number): Promise<void> {
    const t = this.threads[i];
    if (!t || t.dead) return;
    await t.rpc.call({ type: 'crash' }).catch(() => undefined);
  }

  /** The `limit` best documents for `text` by BM25 among those passing `filter` (KeywordTables.search). */
  search(
    text: string,
    limit: number,
    filter?: MetadataFilter,
    options: KeywordSearchOptions = {},
  ): Promise<RankedId[]> {
    let thread: ReaderThread | undefined;
    for (const t of this.threads) if (!t.dead && (!thread || t.busy < thread.busy)) thread = t;
    if (!thread) return Promise.resolve(this.local.search(text, limit, filter, options));
    const chosen = thread;
    chosen.busy++;
    const documentCount = this.documentCount();
    return chosen.rpc
      .call({ type: 'search', text, limit, filter, options, documentCount })
      .finally(() => chosen.busy--)
      .catch((err: Error) =>
        // Its thread died under it: another thread ranks it, or the main connection once none is left.
        chosen.dead ? this.search(text, limit, filter, options) : Promise.reject(err),
      );
  }

  async close(): Promise<void> {
    await Promise.all(
      this.threads.map(async (t) => {
        if (!t.dead) await t.rpc.call({ type: 'close' }).catch(() => undefined);
        await t.rpc.terminate();
      }),
    );
  }
}
