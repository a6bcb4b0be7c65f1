import { describe, expect, it } from 'vitest';
import { acceptedWriteAnswer, notYetAtWaitLevel } from '../../edge/write-accepted.ts';
import { UpsertAccepted } from '../../shared/schemas.ts';

const timeout = (code: string, message: string, extra: object = {}) => ({
  error: { code, message },
  ...extra,
});

describe("a node's 504 on a write", () => {
  it('reads wait_timeout as accepted and queued, with the job id from the message', async () => {
    const body = timeout(
      'wait_timeout',
      'job 42 accepted but not finished within 30000 ms (timeout); poll /api/v1/jobs/42',
    );
    expect(notYetAtWaitLevel(body)).toEqual({
      code: 'wait_timeout',
      message: body.error.message,
      jobId: '42',
    });
    const answer = acceptedWriteAnswer(body, 3)!;
    expect(answer.status).toBe(202);
    const json = UpsertAccepted.parse(await answer.json());
    expect(json).toEqual({ job_id: '42', accepted: 3, status: 'queued', message: body.error.message });
  });

  it('reads not_replicated as accepted and applied on the master', async () => {
    const body = timeout(
      'not_replicated',
      'job ing:7 applied on the master at 5-0 but no standby applied it in time; is a standby running?',
    );
    const answer = acceptedWriteAnswer(body, 1)!;
    expect(answer.status).toBe(202);
    expect(await answer.json()).toMatchObject({ job_id: 'ing:7', accepted: 1, status: 'applied' });
  });

  it('prefers a job_id field when the node gives one', () => {
    const message = 'job 1 accepted but not finished';
    expect(notYetAtWaitLevel(timeout('wait_timeout', message, { job_id: 'j-9' }))?.jobId).toBe('j-9');
    expect(notYetAtWaitLevel({ error: { code: 'wait_timeout', message, job_id: 'j-8' } })?.jobId).toBe('j-8');
  });

  it("relays the node's 504 when it names no job (accepted, so still never re-sent)", async () => {
    const answer = acceptedWriteAnswer(timeout('wait_timeout', 'accepted but not finished in time'), 1)!;
    expect(answer.status).toBe(504);
    expect(await answer.json()).toEqual({
      error: { code: 'wait_timeout', message: 'accepted but not finished in time' },
    });
  });

  it('is a real failure for any other 504 body', () => {
    for (const body of [
      null,
      'Gateway Timeout',
      { error: { code: 'internal', message: 'job 1 broke' } },
      { error: { code: 'wait_timeout' } },
      { job_id: '1' },
    ]) {
      expect(notYetAtWaitLevel(body)).toBeNull();
      expect(acceptedWriteAnswer(body, 1)).toBeNull();
    }
  });
});
