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
  /** When it died, and how long after that a new thread may take its place. */
  diedAt: number;
  restartAfterMs: number;
}

/** A dead thread's place is taken again after this, doubling with each death in a row, to this cap. */
const RESTART_AFTER_MS = 1000;
const RESTART_AFTER_MAX_MS = 60_000;

export class KeywordReader {
  /** Set while every thread is dead: rankings have fallen back to the main connection. */
  failure: Error | null = null;
  private readonly threads: ReaderThread[];
  private closing = false;

  private constructor(
    private readonly path: string,
    threads: number,
    private readonly local: KeywordTables,
    private readonly documentCount: () => number,
    private readonly restartAfterMs: number,
  ) {
    this.threads = Array.from({ length: Math.max(1, threads) }, () => {
      const t: ReaderThread = {
        rpc: this.startThread(),
        busy: 0,
        dead: false,
        diedAt: 0,
        restartAfterMs,
      };
      this.watch(t);
      return t;
    });
  }

  /**
   * Starts `threads` reader threads on the database at `path` (each ranking goes to the least
   * busy; one query at a time each, so more threads rank more queries at once on more cores);
   * `local` is the main connection's keyword tables. A thread that dies is replaced on a later
   * ranking, `restartAfterMs` after its death at the soonest (doubling while replacements die).
   */
  static open(
    path: string,
    local: KeywordTables,
    documentCount: () => number,
    threads = 1,
    restartAfterMs = RESTART_AFTER_MS,
  ): KeywordReader {
    return new KeywordReader(path, threads, local, documentCount, restartAfterMs);
  }

  private startThread(): WorkerRpc<Command, RankedId[]> {
    const worker = startTsWorker(new URL('./keyword-reader-worker.ts', import.meta.url), {
      workerData: { path: this.path },
    });
    // A search waiting on the reader keeps the process alive; an idle reader must not.
    worker.unref();
    return new WorkerRpc<Command, RankedId[]>(worker, 'keyword reader');
  }

  private watch(t: ReaderThread): void {
    t.rpc.onDeath = (err) => {
      t.dead = true;
      t.diedAt = Date.now();
      if (this.threads.every((other) => other.dead)) this.failure = err;
    };
  }

  /** Dead threads whose wait is over get a successor (on the ranking that finds them so). */
  private replaceDead(): void {
    if (this.closing) return;
    const now = Date.now();
    for (const t of this.threads) {
      if (!t.dead || now - t.diedAt < t.restartAfterMs) continue;
      void t.rpc.terminate().catch(() => undefined);
      t.rpc = this.startThread();
      t.dead = false;
      t.busy = 0;
      // Until the successor answers, another death waits twice as long.
      t.restartAfterMs = Math.min(t.restartAfterMs * 2, RESTART_AFTER_MAX_MS);
      this.watch(t);
      this.failure = null;
    }
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

  /**
   * The `limit` best documents for `text` by BM25 among those passing `filter` (KeywordTables.search).
   * A ranking whose thread dies under it is asked once more (of another thread, or of the main
   * connection when none is alive), then of the main connection: a query that kills its thread
   * cannot take every thread down with it.
   */
  search(
    text: string,
    limit: number,
    filter?: MetadataFilter,
    options: KeywordSearchOptions = {},
    retried = false,
  ): Promise<RankedId[]> {
    this.replaceDead();
    let thread: ReaderThread | undefined;
    for (const t of this.threads) if (!t.dead && (!thread || t.busy < thread.busy)) thread = t;
    if (!thread) return Promise.resolve(this.local.search(text, limit, filter, options));
    const chosen = thread;
    const rpc = chosen.rpc;
    chosen.busy++;
    const documentCount = this.documentCount();
    return rpc
      .call({ type: 'search', text, limit, filter, options, documentCount })
      .then((ranked) => {
        chosen.restartAfterMs = this.restartAfterMs;
        return ranked;
      })
      .finally(() => {
        // Not if a successor has taken the place meanwhile: its count starts afresh.
        if (chosen.rpc === rpc) chosen.busy--;
      })
      .catch((err: Error) => {
        if (chosen.rpc === rpc && !chosen.dead) return Promise.reject(err);
        return retried
          ? this.local.search(text, limit, filter, options)
          : this.search(text, limit, filter, options, true);
      });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.threads.map(async (t) => {
        if (!t.dead) await t.rpc.call({ type: 'close' }).catch(() => undefined);
        await t.rpc.terminate();
      }),
    );
  }
}
