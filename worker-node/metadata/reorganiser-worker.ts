/**
 * Worker-thread entry of the reorganiser (reorganiser.ts): its own read-write connection to the
 * node's SQLite file. Requests run one at a time, in the order they came: a snapshot and a
 * renumbering never interleave here.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { writeFlatSnapshot } from '../flat-snapshot.ts';
import { BACKGROUND_NICE, yieldToEventLoop } from '../util/thread-priority.ts';
import { PassageLabels } from './passage-labels.ts';
import type { ReorganiserReply, ReorganiserRequest } from './reorganiser.ts';

yieldToEventLoop(process.env, BACKGROUND_NICE);

const db = new Database((workerData as { path: string }).path, { fileMustExist: true, timeout: 5000 });
// Per connection: as durable as the main connection's commits, no more.
db.pragma('synchronous = NORMAL');
const labels = new PassageLabels(db);

async function handle(msg: ReorganiserRequest): Promise<{ result: unknown; transfer: ArrayBuffer[] }> {
  switch (msg.type) {
    case 'page': {
      const page = labels.livePage(msg.afterLabel, msg.limit);
      return { result: page, transfer: [page.vectors.buffer as ArrayBuffer] };
    }
    case 'renumber':
      labels.renumber(msg.labels, msg.page);
      return { result: null, transfer: [] };
    case 'flat-snapshot':
      return { result: await writeFlatSnapshot(labels, msg.path, msg.dimension, msg.upto), transfer: [] };
    case 'crash':
      return process.exit(70);
    case 'close':
      db.close();
      return { result: null, transfer: [] };
  }
}

let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (msg: ReorganiserRequest) => {
  queue = queue.then(async () => {
    let reply: ReorganiserReply;
    let transfer: ArrayBuffer[] = [];
    try {
      const done = await handle(msg);
      reply = { id: msg.id, ok: true, result: done.result };
      transfer = done.transfer;
    } catch (err) {
      reply = { id: msg.id, ok: false, error: (err as Error).message };
    }
    parentPort!.postMessage(reply, transfer);
  });
});
