/**
 * A node's 504 on a write that asked to wait (`wait: "applied"` or `"replicated"`) means
 * "accepted, not yet at that wait level": the job is queued or already appended and goes on.
 * Re-sending the write elsewhere would only repeat it, and the node is not failing, so the edge
 * answers 202 with the job id and the node's message (ARCHITECTURE.md section 3). Pure, so the
 * reading of the node's answer is unit-tested without workerd; edge/upstream.ts uses it.
 */
import { z } from 'zod';
import { errorBody } from '../shared/errors.ts';
import type { UpsertAccepted } from '../shared/schemas.ts';

/** The node's codes for "accepted, not at the wait level in time", and how far the write got. */
const NOT_YET_AT_WAIT_LEVEL = { wait_timeout: 'queued', not_replicated: 'applied' } as const;

/**
 * The node's 504 body: the shared error shape. The job id is read from a `job_id` field when the
 * node gives one, else from its message ("job <id> accepted but ...", "job <id> appended at ...").
 */
const NodeWaitTimeout = z.object({
  job_id: z.string().min(1).optional(),
  error: z.object({
    code: z.enum(['wait_timeout', 'not_replicated']),
    message: z.string(),
    job_id: z.string().min(1).optional(),
  }),
});
const JOB_IN_MESSAGE = /\bjob ([A-Za-z0-9._:-]+)/;

export interface NotYetAtWaitLevel {
  code: keyof typeof NOT_YET_AT_WAIT_LEVEL;
  message: string;
  /** Null when the node did not say which job: the edge then relays the 504 itself, still never re-sent. */
  jobId: string | null;
}

/** A 504 body read as "accepted, not yet at the wait level", or null when it says anything else. */
export function notYetAtWaitLevel(body: unknown): NotYetAtWaitLevel | null {
  const parsed = NodeWaitTimeout.safeParse(body);
  if (!parsed.success) return null;
  const { error } = parsed.data;
  const jobId = parsed.data.job_id ?? error.job_id ?? JOB_IN_MESSAGE.exec(error.message)?.[1] ?? null;
  return { code: error.code, message: error.message, jobId };
}

/**
 * The answer for the client when the node's 504 means "accepted, not yet at the wait level": 202
 * with the job id and the node's message, or the node's 504 as it is when it named no job. Null
 * for any other answer (a real failure). `operations` is how many the request carried.
 */
export function acceptedWriteAnswer(body: unknown, operations: number): Response | null {
  const notYet = notYetAtWaitLevel(body);
  if (!notYet) return null;
  if (notYet.jobId === null) return Response.json(errorBody(notYet.code, notYet.message), { status: 504 });
  const answer: UpsertAccepted = {
    job_id: notYet.jobId,
    accepted: operations,
    status: NOT_YET_AT_WAIT_LEVEL[notYet.code],
    message: notYet.message,
  };
  return Response.json(answer, { status: 202 });
}
