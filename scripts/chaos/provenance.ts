/**
 * Two of the chaos checker's rules (checker.ts), pure and unit-tested with it
 * (test/unit/chaos-checker.test.ts):
 *
 * - Provenance of an answer: every text the write load writes ends in a version marker
 *   `[<id> version <n>]` (write-load.ts), so a hit whose text names another id, or that was never
 *   written for its id at all, is a foreign (wrong) answer: not lag, which only ever shows an
 *   older or newer text of the same id.
 * - Writes answered 202 (accepted, not at the wait level in time): their jobs are polled after the
 *   run; a completed job's write must read back like an acknowledged one, a failed job's never,
 *   and a job neither completed nor failed (or unreadable) is a violation of its own.
 */
import type { JobOutcome, SearchHitRecord, WriteRecord } from './records.ts';

const MARKER = /\[(\S+) version \d+\]$/;

/** The id a written text's version marker names, or null (a text the load did not write). */
export function markerId(text: string): string | null {
  return MARKER.exec(text)?.[1] ?? null;
}

/**
 * Whether a hit's text cannot be any version of its id: it names another id, or the run wrote
 * this id (`ops`) and never that text.
 */
export function isForeign(hit: SearchHitRecord, ops: readonly WriteRecord[] | undefined): boolean {
  const named = markerId(hit.text);
  if (named !== null && named !== hit.id) return true;
  return ops !== undefined && !ops.some((op) => op.text === hit.text);
}

export interface JobCheck {
  /**
   * The writes as the final reads judge them: a 202 whose job completed counts as acknowledged,
   * one whose job failed is left out (it must not show).
   */
  writes: WriteRecord[];
  applied: number;
  failed: number;
  /** 202 writes whose job is not completed or failed, or could not be read. */
  unresolved: WriteRecord[];
  /** 202 writes whose job failed: a final read showing their text is a violation. */
  failedWrites: WriteRecord[];
}

export function checkJobs(writes: readonly WriteRecord[], jobs: readonly JobOutcome[] = []): JobCheck {
  const byJob = new Map(jobs.map((j) => [j.jobId, j]));
  const out: JobCheck = { writes: [], applied: 0, failed: 0, unresolved: [], failedWrites: [] };
  for (const w of writes) {
    if (w.acked || w.status !== 202) {
      out.writes.push(w);
      continue;
    }
    const job = w.jobId ? byJob.get(w.jobId) : undefined;
    if (job?.status === 200 && job.state === 'completed') {
      out.applied++;
      out.writes.push({ ...w, acked: true });
    } else if (job?.status === 200 && job.state === 'failed') {
      out.failed++;
      out.failedWrites.push(w);
    } else {
      out.unresolved.push(w);
      out.writes.push(w);
    }
  }
  return out;
}

/** A line for the report about a 202 write whose job did not resolve. */
export function unresolvedNote(w: WriteRecord, jobs: readonly JobOutcome[] = []): string {
  const job = jobs.find((j) => j.jobId === w.jobId);
  if (!w.jobId) return `write of ${w.id} answered 202 without a job id`;
  if (!job || job.status === null) return `job ${w.jobId} (write of ${w.id}) could not be read`;
  if (job.status !== 200)
    return `job ${w.jobId} (write of ${w.id}) answered ${job.status}: ${job.error ?? ''}`;
  return `job ${w.jobId} (write of ${w.id}) still ${job.state} after the run`;
}
