/**
 * Keyword ranking off the main thread: the BM25 query of keyword and hybrid searches runs in a
 * worker thread (keyword-reader-worker.ts) on its own read-only connection, so the event loop
 * stays free for /health, the apply path and the other searches' short steps.
 *
 * Only the ranking moves. The caller still reads the documents it returns on the main
 * connection, so a document deleted after the ranking is dropped, never served. Should the
 * thread die, rankings run on the main connection (correct, only slower) and the reader says so.
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
  | { id: number; type: 'close' };

export type KeywordReaderReply =
  | { id: number; ok: true; result: RankedId[] }
  | { id: number; ok: false; error: string };

type Command = KeywordReaderRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

export class KeywordReader {
  /** Set once the thread died: rankings have fallen back to the main connection. */
  failure: Error | null = null;

  private constructor(
    private readonly rpc: WorkerRpc<Command, RankedId[]>,
    private readonly local: KeywordTables,
    private readonly documentCount: () => number,
  ) {
    rpc.onDeath = (err) => {
      this.failure = err;
    };
  }

  /** Starts the thread on the database at `path`; `local` is the main connection's keyword tables. */
  static open(path: string, local: KeywordTables, documentCount: () => number): KeywordReader {
    const worker = startTsWorker(new URL('./keyword-reader-worker.ts', import.meta.url), {
      workerData: { path },
    });
    // A search waiting on the reader keeps the process alive; an idle reader must not.
    worker.unref();
    return new KeywordReader(new WorkerRpc(worker, 'keyword reader'), local, documentCount);
  }

  /** The `limit` best documents for `text` by BM25 among those passing `filter` (KeywordTables.search). */
  search(
    text: string,
    limit: number,
    filter?: MetadataFilter,
    options: KeywordSearchOptions = {},
  ): Promise<RankedId[]> {
    const local = () => this.local.search(text, limit, filter, options);
    if (this.failure) return Promise.resolve(local());
    const documentCount = this.documentCount();
    return this.rpc
      .call({ type: 'search', text, limit, filter, options, documentCount })
      .catch((err: Error) => (this.failure ? local() : Promise.reject(err)));
  }

  async close(): Promise<void> {
    if (!this.failure) await this.rpc.call({ type: 'close' }).catch(() => undefined);
    await this.rpc.terminate();
  }
}
