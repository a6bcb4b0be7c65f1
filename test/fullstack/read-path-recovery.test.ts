/**
 * The read path while a node stops keeping up, with real node processes behind the edge in real
 * workerd (scripts/cluster/launch.ts, each node behind its own Redis proxy):
 * - a frozen master (SIGSTOP): alive to TCP, silent to everything; no search fails and none is
 *   served by it, hedges stay within the budget, and the coordinator fails over;
 * - a replication delay (one standby cut off the change log): a search with the `seq` of a
 *   just-acknowledged write as `min_seq` finds that write, 100 of 100, wherever it lands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAOS_EDGE_VARS } from '../../scripts/chaos/runner.ts';
import {
  currentMaster,
  heal,
  nodeById,
  otherThan,
  sigcont,
  sigstop,
  waitNewMaster,
  waitStandby,
} from '../../scripts/chaos/cluster-ops.ts';
import { startCluster, type Cluster } from '../../scripts/cluster/launch.ts';
import { describeReads, edgeSearch, maxHedges, searchLoad } from './helpers/edge-reads.ts';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({
    nodes: 3,
    privateRedis: true,
    redisProxies: true,
    edgeVars: CHAOS_EDGE_VARS,
    nodeEnv: { FAULT_INJECTION: '1' },
  });
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

describe('read path under a frozen master and a replication delay (real nodes)', () => {
  it('a frozen master (SIGSTOP): no search fails, none is served by it, then a failover', async () => {
    await heal(cluster);
    const before = await currentMaster(cluster);
    const frozen = nodeById(cluster, before.master);
    sigstop(frozen);
    try {
      const reads = await searchLoad(cluster, 4000, 3);
      console.log(describeReads('frozen master', reads));
      expect(reads.filter((r) => r.status !== 200)).toEqual([]);
      expect(reads.filter((r) => r.servedBy === before.master)).toEqual([]);
      expect(reads.filter((r) => r.hedged).length).toBeLessThanOrEqual(maxHedges(reads.length));
      const next = await waitNewMaster(cluster, before, 30_000);
      expect(next.master).not.toBe(before.master);
      sigcont(frozen);
      await waitStandby(cluster, before.master, next.epoch);
    } finally {
      sigcont(frozen);
    }
  }, 120_000);

  it('min_seq reads during a replication delay find the just-acknowledged write, 100 of 100', async () => {
    await heal(cluster);
    const { master } = await currentMaster(cluster);
    const behind = otherThan(cluster, master)[0]!.id;
    const proxy = cluster.redisProxies.get(behind)!;
    await proxy.cut(); // this standby applies nothing more until restored
    const servedBy: Record<string, number> = {};
    let found = 0;
    const rounds = 100;
    try {
      for (let i = 0; i < rounds; i++) {
        const id = `ryw-${Date.now()}-${i}`;
        const text = `read your writes marker zebracorn${i} kiwifruit`;
        const write = await cluster.adminFetch('/api/v1/documents', {
          method: 'POST',
          json: { documents: [{ id, text, metadata: { ryw: id } }], wait: 'applied' },
        });
        expect(write.status).toBe(200);
        const { seq } = (await write.json()) as { seq: string };
        // The filter makes the check about visibility, not ranking among near-identical texts.
        const hit = await edgeSearch(cluster, {
          query: text,
          top_k: 5,
          min_seq: seq,
          filter: { metadata: { ryw: id } },
        });
        expect(hit.status).toBe(200);
        if (hit.ids.includes(id)) found++;
        servedBy[hit.servedBy ?? 'none'] = (servedBy[hit.servedBy ?? 'none'] ?? 0) + 1;
      }
    } finally {
      await proxy.restore();
    }
    console.log(
      `[min_seq, ${behind} cut off the log] ${found}/${rounds} found; served by ${JSON.stringify(servedBy)}`,
    );
    expect(found).toBe(rounds);
    // The standby that was cut off could not have served any of them.
    expect(servedBy[behind] ?? 0).toBe(0);
    await heal(cluster);
  }, 180_000);
});
