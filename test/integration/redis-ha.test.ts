/**
 * The change log, the fence, WAIT and the BullMQ ingest queue on Redis's own high-availability
 * engines, started here on loopback: a master + replica + three Sentinels, and a Redis Cluster of
 * three masters. On Sentinel, a kill -9 of the Redis master loses nothing that was acknowledged:
 * every append was confirmed by WAIT on the replica that Sentinel then promotes.
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  oneServerUrl,
  type RedisTopology,
  startRedisTopology,
} from '../../scripts/cluster/redis-topology.ts';
import { sleep, waitFor } from '../../scripts/cluster/wait.ts';
import { IngestQueue } from '../../worker-node/ingest/ingest-queue.ts';
import { connectRedis, type RedisClient } from '../../worker-node/redis-connection.ts';
import { ChangeLog } from '../../worker-node/replication/change-log.ts';
import { RedisNotReplicatedError } from '../../worker-node/replication/redis-ack.ts';
import { uniquePrefix } from '../helpers/redis.ts';

const vector = new Float32Array([1, 0]);
const upsert = (id: string) => ({ op: 'upsert' as const, id, text: id, metadata: {}, vector });

describe.each(['sentinel', 'cluster'] as const)('Redis %s', (kind) => {
  let topology: RedisTopology | null = null;
  let redis: RedisClient | null = null;
  const clients: RedisClient[] = [];
  const connect = () => {
    const c = connectRedis(topology!.target, { maxRetriesPerRequest: 2 });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    topology = await startRedisTopology(kind);
    redis = connect();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await topology?.stop();
  });

  it('keeps every key of the log under one hash tag and fences appends', async () => {
    const log = new ChangeLog(redis!, uniquePrefix('ha'));
    expect(log.keys.log).toMatch(/^\{[^}]+\}:log$/);
    expect(await log.takeFence(2, 'node-a')).toBe(2);
    const ids = await log.append(2, 'm', [upsert('d1'), upsert('d2')], 'node-a');
    expect(ids).toHaveLength(2);
    await expect(log.append(1, 'm', [upsert('d3')], 'node-a')).rejects.toMatchObject({ code: 'stale_epoch' });
    expect((await log.readAfter('0-0', 10)).map((e) => e.entry.id)).toEqual(['d1', 'd2']);
    // Several keys in one MULTI: only possible on a Cluster when they share a slot.
    await log.registerNode('node-a', 'http://127.0.0.1:1');
    await log.reportApplied('node-a', ids[1]!);
    await log.unregisterNode('node-a');
    expect(await log.registeredNodes()).toEqual({});
    // The Sentinel master has its replica, so WAIT had one to confirm; the Cluster's masters have none.
    expect((await log.ack.replication()).replicas).toBe(kind === 'sentinel' ? 1 : 0);
  });

  it('names one data server for the state file: the master Sentinel names, or a Cluster node', async () => {
    const expected = kind === 'sentinel' ? (await topology!.currentMaster()).url : topology!.servers[0]!.url;
    expect(await oneServerUrl(topology!.target)).toBe(expected);
  });

  it('refuses an append with 503 when WAIT cannot confirm the replicas asked for', async () => {
    const log = new ChangeLog(redis!, uniquePrefix('ha-wait'), { minReplicas: 2, timeoutMs: 200 });
    const refused = log.append(0, 'm', [upsert('d1')]);
    await expect(refused).rejects.toBeInstanceOf(RedisNotReplicatedError);
    await expect(refused).rejects.toMatchObject({ status: 503, code: 'redis_not_replicated' });
  });

  it('runs the BullMQ ingest queue under the braced prefix', async () => {
    const prefix = uniquePrefix('ha-q');
    const queue = new IngestQueue(topology!.target, prefix);
    try {
      queue.startWorker(async (job) => ({ seq: `1-${job.data.ops.length}`, appended: job.data.ops.length }));
      await waitFor('the ingest producer to connect', () => queue.connected, 20_000);
      const job = await queue.enqueue({ ops: [{ op: 'delete', id: 'x' }], accepted_at: Date.now() });
      expect(await queue.waitFinished(job, 20_000)).toEqual({ seq: '1-1', appended: 1 });
      const keys = (await connectionKeys(redis!, `{${prefix}}:ingest:*`)).length;
      expect(keys).toBeGreaterThan(0);
    } finally {
      await queue.close();
    }
  });

  it('acknowledges an accepted job only once WAIT confirms it (503 short of the replicas asked for)', async () => {
    // An accepted write (202) must survive a promotion as much as an appended one: the job is
    // WAITed for on the connection that added it, on a Cluster the master owning the queue's slot.
    const queue = new IngestQueue(topology!.target, uniquePrefix('ha-q-wait'), {
      minReplicas: 2,
      timeoutMs: 200,
    });
    try {
      await waitFor('the ingest producer to connect', () => queue.connected, 20_000);
      const refused = queue.enqueue({ ops: [{ op: 'delete', id: 'x' }], accepted_at: Date.now() });
      await expect(refused).rejects.toMatchObject({ status: 503, code: 'redis_not_replicated' });
    } finally {
      await queue.close();
    }
  });

  // Sentinel only: this Redis Cluster has no replicas to promote.
  if (kind === 'sentinel')
    it('loses no acknowledged append when the Redis master is killed and Sentinel promotes the replica', async () => {
      const log = new ChangeLog(connect(), uniquePrefix('ha-failover'));
      await log.takeFence(5, 'node-a');
      const oldMaster = await topology!.currentMaster();
      const acked: string[] = [];
      let refused = 0;
      let killed = false;
      let i = 0;
      // Append until the failover is over and appends have been acknowledged again for a while.
      while (acked.length < 40 || !killed || (await topology!.currentMaster()) === oldMaster) {
        const id = `doc-${i++}`;
        try {
          await log.append(5, 'm', [upsert(id)], 'node-a');
          acked.push(id);
        } catch {
          refused++;
          await sleep(50);
        }
        if (!killed && acked.length === 20) {
          await oldMaster.kill();
          killed = true;
        }
        if (i > 5000) throw new Error(`appends never resumed (${refused} refused)`);
      }
      for (let j = 0; j < 5; j++) {
        await log.append(5, 'm', [upsert(`after-${j}`)], 'node-a');
        acked.push(`after-${j}`);
      }
      const present = new Set((await log.readAfter('0-0', 100_000)).map((e) => e.entry.id));
      expect(acked.filter((id) => !present.has(id))).toEqual([]);
      // The fence survived the promotion as well (it was confirmed by WAIT when raised).
      expect(await log.fence()).toBe(5);
      // A promotion takes a few seconds; on a busy machine a Sentinel election may have to be
      // held again (scripts/cluster/redis-topology.ts: failover-timeout).
    }, 120_000);
});

/** Keys matching `pattern` on whichever server holds them (every master of a Cluster). */
async function connectionKeys(client: RedisClient, pattern: string): Promise<string[]> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  const all = await Promise.all(nodes.map((n) => n.keys(pattern)));
  return all.flat();
}
