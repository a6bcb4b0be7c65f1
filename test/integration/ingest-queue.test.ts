/**
 * The BullMQ ingest queue in real Redis (the machine's, under a unique prefix): waiting for a
 * job's result must not depend on seeing its completion event, and must end at its deadline
 * while Redis cannot be reached (the queue reaches Redis through a TCP proxy the test cuts, so
 * the machine's Redis stays up for everyone else).
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { IngestQueue } from '../../worker-node/ingest/ingest-queue.ts';
import { startTcpProxy } from '../../scripts/cluster/tcp-proxy.ts';
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

  it('ends at its deadline while Redis cannot be reached, and finds the result once it can', async () => {
    const upstream = new URL(url);
    const proxy = await startTcpProxy(Number(upstream.port || 6379));
    const queue = new IngestQueue({ kind: 'single', url: `redis://127.0.0.1:${proxy.port}` }, prefix);
    try {
      await waitFor('the ingest producer to connect', () => queue.connected, 20_000);
      const job = await queue.enqueue({ ops: [{ op: 'delete', id: 'z' }], accepted_at: Date.now() });
      // No worker: the job waits. A round of the wait is under way when Redis goes away.
      const waiting = queue.waitFinished(job, 3000);
      await new Promise((r) => setTimeout(r, 1200));
      await proxy.cut();
      const started = Date.now();
      await expect(waiting).rejects.toThrow(/timed out before finishing/);
      // It ended at its own deadline (3 s from its start), not when Redis came back.
      expect(Date.now() - started).toBeLessThan(10_000);
      await proxy.restore();
      await waitFor('the ingest producer to reconnect', () => queue.connected, 20_000);
      queue.startWorker(async (j) => ({ seq: `8-${j.data.ops.length}`, appended: j.data.ops.length }));
      expect(await queue.waitFinished(job, 15_000)).toEqual({ seq: '8-1', appended: 1 });
    } finally {
      await queue.close();
      await proxy.close();
    }
  });
});
