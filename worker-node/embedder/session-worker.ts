/**
 * Worker-thread entry: owns the tokenizer and the ONNX session, so neither tokenization of long
 * documents (about 1 ms per 4k characters) nor session.run() ever blocks the node's event loop,
 * which must answer /health within 15 ms. Each dispatch is tokenized exactly, sorted by length
 * and packed into session runs under the token budget.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { packByLength } from './batcher.ts';
import { splitPassages } from './passages.ts';
import type { FromWorker, RunStat, ToWorker, WorkerInit } from './protocol.ts';
import { embedBatch, openSession, type OpenedSession } from './session.ts';
import { loadTokenizer, type TextTokenizer } from './tokenizer.ts';
import { yieldToEventLoop } from '../util/thread-priority.ts';

// Before the session exists: ONNX Runtime's thread pool inherits this thread's priority.
yieldToEventLoop();
const init = workerData as WorkerInit;
const port = parentPort!;

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

async function embed(
  tokenizer: TextTokenizer,
  session: OpenedSession,
  id: number,
  texts: string[],
): Promise<void> {
  const t0 = performance.now();
  const ids = texts.map((text) => tokenizer.encode(text));
  const tokenizeMs = performance.now() - t0;
  const vectors = new Float32Array(texts.length * init.dimension);
  const runs: RunStat[] = [];
  for (const group of packByLength(
    ids.map((row) => row.length),
    init.maxBatchTokens,
  )) {
    const started = performance.now();
    const rows = await embedBatch(
      session,
      group.map((i) => ids[i]!),
      tokenizer.padId,
      init.pooling,
      init.dimension,
    );
    group.forEach((i, k) => vectors.set(rows[k]!, i * init.dimension));
    runs.push({
      size: group.length,
      seqLen: Math.max(...group.map((i) => ids[i]!.length)),
      ms: performance.now() - started,
    });
  }
  const inferMs = performance.now() - t0 - tokenizeMs;
  post({ type: 'embedded', id, vectors, runs, tokenizeMs, inferMs }, [vectors.buffer as ArrayBuffer]);
}

/** Splitting tokenizes the whole document, so it runs here too, off the event loop. */
function split(tokenizer: TextTokenizer, id: number, texts: string[], overlapTokens: number): void {
  const opts = {
    maxTokens: init.maxLength - tokenizer.specialTokens,
    overlapTokens,
    countTokens: tokenizer.count,
  };
  post({ type: 'split', id, spans: texts.map((text) => splitPassages(text, opts)) });
}

async function main(): Promise<void> {
  let tokenizer: TextTokenizer;
  let session: OpenedSession;
  try {
    tokenizer = await loadTokenizer(init.tokenizerPath, init.maxLength);
    session = await openSession(init.onnxPath, init.device, init.threads, (event, fields) =>
      post({ type: 'log', event, fields }),
    );
  } catch (err) {
    post({ type: 'init_failed', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  // One dispatch at a time: a second session.run would only contend for the same cores.
  let chain = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'crash') process.exit(70);
    chain = chain.then(async () => {
      try {
        if (msg.type === 'split') split(tokenizer, msg.id, msg.texts, msg.overlapTokens);
        else await embed(tokenizer, session, msg.id, msg.texts);
      } catch (err) {
        post({ type: 'failed', id: msg.id, message: err instanceof Error ? err.message : String(err) });
      }
    });
  });
  post({ type: 'ready', device: session.device });
}

void main();
