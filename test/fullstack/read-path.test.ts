/**
 * The read path end to end: the edge in real workerd, three real search-node processes and a
 * private redis-server (scripts/cluster/launch.ts), nodes slowed through POST /api/v1/faults.
 * - Three healthy nodes each serve a fair share of searches (the master included).
 * - A slow master (1 s, 3 s), a slow standby, or a slow master and standby together: no search
 *   fails, the slow nodes serve few of them (balancing steers away, hedges cover the rest).
 * - Every node slow: hedges stay within the budget (10 % of reads plus a burst of 10), so
 *   hedging does not double the load of a cluster that is slow all over.
 * Assertions count where reads went and how many requests they cost; the latencies are logged.
 * One cluster, a few seconds of load per test: the suite runs on 2 cores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAOS_EDGE_VARS } from '../../scripts/chaos/runner.ts';
import { currentMaster, heal, injectFault, nodeById, otherThan } from '../../scripts/chaos/cluster-ops.ts';
import { startCluster, type Cluster } from '../../scripts/cluster/launch.ts';
import { describeReads, type EdgeRead, maxHedges, searchLoad, servedShares } from './helpers/edge-reads.ts';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({
    nodes: 3,
    privateRedis: true,
    edgeVars: { ...CHAOS_EDGE_VARS, HEDGE_CAP_MS: '250' },
    nodeEnv: { FAULT_INJECTION: '1' },
  });
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

/** Searches under `slow` (node id → added latency), then the faults cleared. */
async function withSlowNodes(slow: Record<string, number>, label: string, clients = 3): Promise<EdgeRead[]> {
  await heal(cluster);
  for (const [id, ms] of Object.entries(slow)) await injectFault(nodeById(cluster, id), { latency_ms: ms });
  try {
    const reads = await searchLoad(cluster, 6000, clients);
    console.log(describeReads(label, reads));
    return reads;
  } finally {
    for (const id of Object.keys(slow)) await injectFault(nodeById(cluster, id), { clear: true });
  }
}

function expectAllAnswered(reads: EdgeRead[]): void {
  expect(reads.filter((r) => r.status !== 200)).toEqual([]);
  expect(reads.length).toBeGreaterThan(20);
  expect(reads.filter((r) => r.hedged).length).toBeLessThanOrEqual(maxHedges(reads.length));
}

/** How many of `reads` the nodes in `ids` served. */
const servedBy = (reads: EdgeRead[], ids: string[]) =>
  reads.filter((r) => ids.includes(r.servedBy ?? '')).length;

describe('read path (real workerd, node processes, Redis)', () => {
  it('with 3 healthy nodes, each serves a fair share of searches', async () => {
    await heal(cluster);
    const reads = await searchLoad(cluster, 6000, 3);
    console.log(describeReads('3 healthy nodes', reads));
    expectAllAnswered(reads);
    const shares = servedShares(reads);
    for (const node of cluster.nodes)
      expect((shares[node.id] ?? 0) / reads.length, JSON.stringify(shares)).toBeGreaterThan(0.2);
  }, 90_000);

  for (const ms of [1000, 3000])
    it(`a master slowed by ${ms / 1000} s serves few searches and fails none`, async () => {
      const { master } = await currentMaster(cluster);
      const reads = await withSlowNodes({ [master]: ms }, `slow master ${ms} ms`);
      expectAllAnswered(reads);
      // Balanced evenly it would serve a third; steered away it serves a few, while it is found out.
      expect(servedBy(reads, [master])).toBeLessThan(reads.length * 0.1);
    }, 120_000);

  it('a slow standby serves few searches and fails none', async () => {
    const { master } = await currentMaster(cluster);
    const standby = otherThan(cluster, master)[0]!.id;
    const reads = await withSlowNodes({ [standby]: 1000 }, 'slow standby');
    expectAllAnswered(reads);
    expect(servedBy(reads, [standby])).toBeLessThan(reads.length * 0.1);
  }, 120_000);

  it('a slow master and a slow standby together: the healthy standby serves most searches', async () => {
    const { master } = await currentMaster(cluster);
    const [slowStandby, healthy] = otherThan(cluster, master).map((n) => n.id);
    const reads = await withSlowNodes({ [master]: 1000, [slowStandby!]: 1000 }, 'slow master + standby');
    expectAllAnswered(reads);
    // Only one of three may be ejected; the other slow node loses on latency in the balancing.
    expect(servedBy(reads, [healthy!])).toBeGreaterThan(reads.length * 0.7);
  }, 120_000);

  it('every node slow: hedges stay within the budget and no search fails', async () => {
    const slow = Object.fromEntries(cluster.nodes.map((n) => [n.id, 400]));
    // Enough clients that the budget, not its initial burst of 10, is what bounds the hedges.
    const reads = await withSlowNodes(slow, 'every node slow', 12);
    expectAllAnswered(reads);
    const hedged = reads.filter((r) => r.hedged).length;
    // Every read outlasts the hedge delay (cap 250 ms): without the budget every one would hedge.
    expect(hedged).toBeGreaterThan(0);
    expect(hedged).toBeLessThanOrEqual(maxHedges(reads.length));
    expect(reads.filter((r) => r.attempts > 1).length).toBeLessThanOrEqual(maxHedges(reads.length));
  }, 120_000);
});
