/**
 * Real search-node processes on Redis's own high-availability engines: a master + replica + three
 * Sentinels, and a three-master Redis Cluster. Writes are replicated to the standby through the
 * change log on both; on Sentinel, a kill -9 of the Redis master is followed by Sentinel's
 * promotion, writes resume by themselves, and every write acknowledged before or after is on both
 * nodes. /health reports the topology, its replicas and the fence.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type RedisTopology, startRedisTopology } from '../../scripts/cluster/redis-topology.ts';
import { syntheticDocs } from '../../scripts/corpus/synthetic.ts';
import {
  health,
  NODE_TEST_TIMEOUT_MS,
  startNodeCluster,
  type TestCluster,
  waitFor,
  waitInSync,
} from '../helpers/cluster.ts';
import { readDocuments } from '../helpers/node-data.ts';

const started: { topology: RedisTopology; cluster: TestCluster }[] = [];
afterAll(async () => {
  for (const s of started) {
    await s.cluster.stop();
    await s.topology.stop();
  }
});

async function startOn(kind: 'sentinel' | 'cluster') {
  const topology = await startRedisTopology(kind);
  const cluster = await startNodeCluster({
    nodes: ['a', 'b'],
    redis: topology.servers[0]!,
    redisTarget: topology.target,
  }).catch(async (err) => {
    await topology.stop();
    throw err;
  });
  started.push({ topology, cluster });
  return { topology, cluster };
}

describe('search nodes on Redis Sentinel', { timeout: 2 * NODE_TEST_TIMEOUT_MS }, () => {
  it('resume writes after a kill -9 of the Redis master and lose nothing acknowledged', async () => {
    const { topology, cluster } = await startOn('sentinel');
    const a = cluster.node('a');
    const b = cluster.node('b');
    await waitFor('a to report the Sentinel topology', async () => {
      const t = (await health(a)).replication?.redis_topology;
      return t?.kind === 'sentinel' && t.replicas === 1 && t.min_replicas_ack === 1 && t.fence === 1;
    });
    const acked: string[] = [];
    const docs = syntheticDocs(400, 'sentinel');
    let next = 0;
    const writeOne = async () => {
      const doc = docs[next++ % docs.length]!;
      const res = await a.client.upsert([doc], cluster.epoch, 'applied');
      if (res.status === 200) acked.push(doc.id);
      else expect([503, 504], JSON.stringify(res.body)).toContain(res.status);
      return res.status;
    };
    while (acked.length < 10) await writeOne();
    const oldMaster = await topology.currentMaster();
    await oldMaster.kill();
    await waitFor(
      'Sentinel to promote the replica',
      async () => (await topology.currentMaster()) !== oldMaster,
      30_000,
      100,
    );
    await waitFor('writes to be acknowledged again', async () => (await writeOne()) === 200, 60_000, 100);
    for (let i = 0; i < 5; i++) expect(await writeOne()).toBe(200);

    await waitInSync(a, [b]);
    for (const node of [a, b]) {
      const held = readDocuments(node.dataDir);
      expect(acked.filter((id) => !held.has(id))).toEqual([]);
    }
    // The fence came through the promotion (no re-raise was needed) and no epoch went back.
    const h = await waitFor('a to report the promoted master', async () => {
      const now = await health(a);
      return now.replication?.redis_topology?.role === 'master' ? now : null;
    });
    expect(h.replication?.redis_topology).toMatchObject({ kind: 'sentinel', fence: 1 });
    expect(h.replication?.epoch_regressions).toBeUndefined();
  });
});

describe('search nodes on Redis Cluster', { timeout: NODE_TEST_TIMEOUT_MS }, () => {
  it('replicate writes through the change log, with every key in one slot', async () => {
    const { cluster } = await startOn('cluster');
    const a = cluster.node('a');
    const b = cluster.node('b');
    const docs = syntheticDocs(40, 'cluster');
    // A write refused with 503 (the node's Redis Cluster client between connections, as seen once
    // on a loaded machine) is sent again, as a client would; any other answer is final.
    const res = await waitFor(
      'the write to be answered other than 503',
      async () => {
        const r = await a.client.upsert(docs, cluster.epoch, 'replicated');
        return r.status === 503 ? null : r;
      },
      30_000,
      200,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await waitInSync(a, [b]);
    expect(readDocuments(b.dataDir).size).toBe(40);
    const topology = await waitFor('a to report the Redis Cluster', async () => {
      const t = (await health(a)).replication?.redis_topology;
      // A view at most a second old: wait for one taken after the activation raised the fence.
      return t?.role && t.fence === 1 ? t : null;
    });
    expect(topology).toEqual({ kind: 'cluster', role: 'master', replicas: 0, min_replicas_ack: 0, fence: 1 });
  });
});
