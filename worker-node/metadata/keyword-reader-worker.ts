/**
 * Worker-thread entry of the keyword reader (keyword-reader.ts): its own read-only connection to
 * the node's SQLite file, on which FTS5 ranks a query's matches. Ranking scores every match of a
 * query's terms, tens of milliseconds on a large corpus, which on the main thread would hold up
 * /health and every other search for that long. WAL lets this reader run beside the main
 * connection's writes; each query sees the last commit made before it started.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { KeywordTables } from './keyword-tables.ts';
import type { KeywordReaderReply, KeywordReaderRequest } from './keyword-reader.ts';
import { yieldToEventLoop } from '../util/thread-priority.ts';

yieldToEventLoop();

const db = new Database((workerData as { path: string }).path, { readonly: true, fileMustExist: true });
let documentCount = 0;
// The live count comes with each query: the main thread keeps it, this connection cannot cheaply.
const tables = new KeywordTables(db, () => documentCount);

parentPort!.on('message', (msg: KeywordReaderRequest) => {
  let reply: KeywordReaderReply;
  try {
    if (msg.type === 'crash') process.exit(1);
    if (msg.type === 'close') {
      db.close();
      reply = { id: msg.id, ok: true, result: [] };
    } else {
      documentCount = msg.documentCount;
      reply = { id: msg.id, ok: true, result: tables.search(msg.text, msg.limit, msg.filter, msg.options) };
    }
  } catch (err) {
    reply = { id: msg.id, ok: false, error: (err as Error).message };
  }
  parentPort!.postMessage(reply);
});
