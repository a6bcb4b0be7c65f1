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

/** Lowers the calling thread's priority to WORKER_THREAD_NICE; answers the nice value applied. */
export function yieldToEventLoop(env: NodeJS.ProcessEnv = process.env): number {
  const nice = threadNiceFromEnv(env);
  if (nice === 0 || process.platform !== 'linux') return 0;
  try {
    setPriority(nice);
    return nice;
  } catch {
    return 0;
  }
}
