/**
 * The BullMQ ingest queue in real Redis (the machine's, under a unique prefix): waiting for a
 * job's result must not depend on seeing its completion event, which BullMQ's stream reader can
 * miss when the event is published before it reads (seen on a loaded machine).
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { IngestQueue } from '../../worker-node/ingest/ingest-queue.ts';
import { waitFor } from '../../scripts/cluster/wait.ts';
import { uniquePrefix } from '../helpers/redis.ts';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = uniquePrefix('ingest-wait');

afterAll(async () => {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  const keys = await redis.keys(`{${prefix}}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('IngestQueue.waitFinished', () => {
  it("returns a finished job's result even when its completion event never arrives", async () => {
    const queue = new IngestQueue({ kind: 'single', url }, prefix);
    try {
      queue.startWorker(async (job) => ({ seq: `7-${job.data.ops.length}`, appended: job.data.ops.length }));
      await waitFor('the ingest producer to connect', () => queue.connected, 20_000);
      // The events reader delivers nothing from here on: as if it had missed the job's event.
      // biome-ignore lint/complexity/useLiteralKeys: the queue keeps its events reader private
      const events = queue['events'];
      events.on = () => events;
      const job = await queue.enqueue({ ops: [{ op: 'delete', id: 'x' }], accepted_at: Date.now() });
      expect(await queue.waitFinished(job, 15_000)).toEqual({ seq: '7-1', appended: 1 });
      // And a job that does not finish still times out, with BullMQ's own error.
      await queue.stopWorker();
      const stuck = await queue.enqueue({ ops: [{ op: 'delete', id: 'y' }], accepted_at: Date.now() });
      await expect(queue.waitFinished(stuck, 1500)).rejects.toThrow(/timed out before finishing/);
    } finally {
      await queue.close();
    }
  });
});
