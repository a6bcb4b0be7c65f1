/**
 * After a chaos run: what became of the writes the edge answered 202 (accepted, the wait level not
 * reached in time). Polls GET /api/v1/jobs/:id through the edge until each job completed or failed,
 * or the deadline passed; the checker (provenance.ts) judges the outcomes.
 */
import type { Cluster } from '../cluster/launch.ts';
import { sleep } from '../cluster/wait.ts';
import type { JobOutcome, WriteRecord } from './records.ts';

const FINAL = new Set(['completed', 'failed']);

async function readJob(cluster: Cluster, jobId: string): Promise<JobOutcome> {
  try {
    const res = await cluster.adminFetch(`/api/v1/jobs/${encodeURIComponent(jobId)}`, {
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json().catch(() => null)) as {
      state?: string;
      error?: string | { code?: string; message?: string } | null;
    } | null;
    const error = typeof body?.error === 'string' ? body.error : (body?.error?.message ?? null);
    return { jobId, status: res.status, state: body?.state ?? null, error };
  } catch (err) {
    return { jobId, status: null, state: null, error: (err as Error).message };
  }
}

/** The final state of every job named by a 202 write, waiting up to `timeoutMs` for them to settle. */
export async function pollJobs(
  cluster: Cluster,
  writes: readonly WriteRecord[],
  timeoutMs = 30_000,
): Promise<JobOutcome[]> {
  const ids = [...new Set(writes.filter((w) => w.status === 202 && w.jobId).map((w) => w.jobId!))];
  const outcomes = new Map<string, JobOutcome>();
  const deadline = Date.now() + timeoutMs;
  let pending = ids;
  while (pending.length > 0) {
    for (const id of pending) outcomes.set(id, await readJob(cluster, id));
    pending = pending.filter((id) => {
      const o = outcomes.get(id)!;
      return !(o.status === 200 && FINAL.has(o.state ?? '')) && o.status !== 404;
    });
    if (pending.length === 0 || Date.now() >= deadline) break;
    await sleep(500);
  }
  return ids.map((id) => outcomes.get(id)!);
}
