/**
 * The node's compute threads run at a lower CPU priority than its event loop (WORKER_THREAD_NICE,
 * worker-node/util/thread-priority.ts), so that /health is not left waiting for a time slice
 * behind ONNX Runtime, FAISS and the keyword reader on a machine with few cores. Checked on the
 * real parts, in this process, through Linux's per-thread /proc entries.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDemoModel } from '../../scripts/setup/build-demo-model.ts';
import { threadNiceFromEnv } from '../../worker-node/config.ts';
import { createEmbedder } from '../../worker-node/embedder/index.ts';
import { SearchEngine } from '../../worker-node/engine.ts';

const MODEL_DIR = join(import.meta.dirname, '..', '..', '.gte', 'models', 'glove-100d-demo');

/** tid → nice value of every thread of this process. */
function threadNice(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces); nice is field 19 of stat.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), Number(fields[16]));
  }
  return out;
}

describe.runIf(process.platform === 'linux')('compute thread priority', () => {
  it('runs the embedder, FAISS and keyword-reader threads at WORKER_THREAD_NICE, the event loop at its own', async () => {
    const before = [...threadNice().values()].filter((n) => n === 10).length;
    // As a dedicated machine sets it (deploy/); worker threads read it when they start.
    const previous = process.env.WORKER_THREAD_NICE;
    process.env.WORKER_THREAD_NICE = '10';
    await buildDemoModel(MODEL_DIR);
    const dataDir = mkdtempSync(join(tmpdir(), 'gte-thread-priority-'));
    const embedder = await createEmbedder({ modelDir: MODEL_DIR, device: 'cpu', threads: 2 });
    const engine = await SearchEngine.open({
      dataDir,
      model: { id: embedder.info.id, checksum: embedder.info.checksum, dimension: embedder.info.dimension },
      factory: 'Flat',
    });
    try {
      // A keyword search makes sure the reader thread has started.
      await engine.search(null, 3, undefined, { mode: 'keyword', text: 'restart the server' });
      const nice = threadNice();
      expect(nice.get(process.pid)).toBe(0);
      // The embedder's thread and ONNX Runtime's pool it started, FAISS's thread, the reader's.
      expect([...nice.values()].filter((n) => n === 10).length - before).toBeGreaterThanOrEqual(3);
    } finally {
      if (previous === undefined) delete process.env.WORKER_THREAD_NICE;
      else process.env.WORKER_THREAD_NICE = previous;
      await engine.close();
      await embedder.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('reads WORKER_THREAD_NICE (default 0: one priority), refusing values outside 0..19', () => {
    expect(threadNiceFromEnv({})).toBe(0);
    expect(threadNiceFromEnv({ WORKER_THREAD_NICE: '10' })).toBe(10);
    expect(threadNiceFromEnv({ WORKER_THREAD_NICE: '0' })).toBe(0);
    expect(threadNiceFromEnv({ WORKER_THREAD_NICE: '19' })).toBe(19);
    for (const bad of ['-1', '20', 'low', '2.5'])
      expect(() => threadNiceFromEnv({ WORKER_THREAD_NICE: bad })).toThrow();
  });
});
