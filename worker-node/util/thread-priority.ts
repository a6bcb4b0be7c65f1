/**
 * The node's compute threads yield the CPU to its event loop. On a machine with fewer cores than
 * busy threads (ONNX Runtime's pool, FAISS, the keyword reader, plus whatever else runs there),
 * the event loop otherwise waits for a time slice behind them, and /health with it: its answer
 * takes microseconds of work but arrived tens of milliseconds late under a full search load.
 *
 * On Linux, setpriority(PRIO_PROCESS, 0) changes the calling thread only, and threads it starts
 * afterwards (ONNX Runtime's and OpenMP's pools) inherit the value; so each worker entry calls
 * this first thing. Elsewhere (or when refused) it does nothing: a priority is a preference.
 */
import { setPriority } from 'node:os';
import { threadNiceFromEnv } from '../config.ts';

/**
 * The nice value of background threads (compaction and snapshots): below the compute threads that
 * answer searches, so on a busy machine they take what the searches leave. Not so low that a
 * compaction, which holds back the node's applies while it runs, starves under a full load.
 */
export const BACKGROUND_NICE = 10;

/**
 * Lowers the calling thread's priority to WORKER_THREAD_NICE (or to `floor`, when that is lower
 * priority still); answers the nice value applied.
 */
export function yieldToEventLoop(env: NodeJS.ProcessEnv = process.env, floor = 0): number {
  const nice = Math.max(threadNiceFromEnv(env), floor);
  if (nice === 0 || process.platform !== 'linux') return 0;
  try {
    setPriority(nice);
    return nice;
  } catch {
    return 0;
  }
}
