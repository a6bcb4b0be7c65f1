/**
 * Suite "read-share": what balanced reads give through the edge. A 3-node cluster behind the edge
 * (workerd) under the same closed-loop search load with 3, then 2, then 1 node serving reads (a
 * standby stopped each step, the edge told by its probes): queries/s, latency, each node's share,
 * and the extra node requests hedging costs in steady state (node-side search requests ÷ answered
 * searches, from each node's gte_node_requests_total).
 *
 * On this machine every node, workerd and the load generator share 2 cores, so throughput cannot
 * grow with nodes here: the table shows that reads spread and what hedging costs, not scaling.
 */
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../cluster/launch.ts';
import type { NodeProcess } from '../../cluster/node-process.ts';
import { waitFor } from '../../cluster/wait.ts';
import { benchQueries } from '../../corpus/synthetic.ts';
import { ingestThroughEdge } from '../context.ts';
import { runLoad, warmUp } from '../load.ts';
import { formatCount, formatMs, goalVerdict, markdownTable, summarize } from '../stats.ts';
import type { Suite } from '../suite.ts';

const CONCURRENCY = 8;

const running = (n: NodeProcess) => n.child.exitCode === null && n.child.signalCode === null;

/** Search requests a node has answered so far (every status), from its Prometheus text. */
async function nodeSearchRequests(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('gte_node_requests_total{') && line.includes('route="/api/v1/search"'))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

/** Whether the edge's probes have marked `id` down (the others may be up or, under load, overloaded). */
async function seenDown(cluster: Cluster, id: string): Promise<boolean> {
  const res = await cluster.adminFetch('/api/v1/status');
  const status = (await res.json()) as { nodes: { id: string; state: string }[] };
  return status.nodes.find((n) => n.id === id)?.state === 'down';
}

export const readShareSuite: Suite = {
  name: 'read-share',
  title: 'Balanced reads through the edge: 1, 2 and 3 nodes serving',
  async run(ctx) {
    ctx.progress('  starting a 3-node cluster with the edge (workerd)');
    const cluster = await startCluster({
      nodes: 3,
      redisUrl: ctx.redis.url,
      dataDir: join(ctx.dir, 'read-share-cluster'),
      edgeVars: { PUBLIC_SEARCH: 'true' },
      nodeEnv: { LOG_LEVEL: 'warn' },
      onProgress: (m) => ctx.progress(`  ${m}`),
    });
    try {
      await ingestThroughEdge(cluster, ctx.sizes.clusterDocs, 'replicated');
      const url = `${cluster.state.edge_url}/api/v1/search`;
      const queries = benchQueries(5000, 37);
      const durationMs = ctx.quick ? 3000 : 8000;
      const rows: (string | number)[][] = [];
      let steadyExtra = Number.NaN;
      // 3 nodes, then a standby stopped (2), then another (1: the master alone).
      const standbys = async () => {
        const status = (await (await cluster.adminFetch('/api/v1/status')).json()) as {
          current_master: string;
        };
        return cluster.nodes.filter((n) => n.id !== status.current_master && running(n));
      };
      for (const serving of [3, 2, 1]) {
        if (serving < 3) {
          const [standby] = await standbys();
          ctx.progress(`  stopping ${standby!.id}`);
          await standby!.stop();
          await waitFor(`the edge to see ${standby!.id} down`, () => seenDown(cluster, standby!.id));
          await new Promise((r) => setTimeout(r, 1200)); // the Worker's routing table cache
        }
        const live = cluster.nodes.filter(running);
        await warmUp(url, queries, 100);
        const before = await Promise.all(live.map((n) => nodeSearchRequests(n.url)));
        ctx.progress(`  ${serving} node(s) serving: ${durationMs / 1000} s at concurrency ${CONCURRENCY}`);
        const r = await runLoad({ url, concurrency: CONCURRENCY, durationMs, queries });
        const after = await Promise.all(live.map((n) => nodeSearchRequests(n.url)));
        const nodeRequests = after.reduce((sum, a, i) => sum + a - before[i]!, 0);
        const answered = r.latenciesMs.length;
        const extra = answered > 0 ? (nodeRequests - answered) / answered : Number.NaN;
        if (serving === 3) steadyExtra = extra;
        const latency = summarize(r.latenciesMs);
        const shares = live
          .map((n) => `${n.id} ${(((r.servedBy[n.id] ?? 0) / Math.max(1, answered)) * 100).toFixed(0)} %`)
          .join(', ');
        const failures = Object.values(r.failures).reduce((a, b) => a + b, 0);
        rows.push([
          serving,
          formatCount((answered / r.durationMs) * 1000),
          formatMs(latency.p50),
          formatMs(latency.p99),
          shares,
          `${(extra * 100).toFixed(1)} %`,
          failures,
        ]);
      }
      return [
        `Three search nodes (default model, Flat, ${formatCount(ctx.sizes.clusterDocs)} documents) behind the edge (workerd, wrangler.toml defaults: hedging on, 10 % budget); concurrency ${CONCURRENCY}, ${durationMs / 1000} s per step. ` +
          'Between steps a standby is stopped and the edge waits until its probes show it down. "Extra node requests" = search requests the nodes answered (hedges and retries included) ÷ searches answered to the client, minus one. ' +
          'All on one 2-core machine shared with other work: more nodes means more processes on the same cores, so queries/s does not grow with nodes here.',
        '',
        markdownTable(
          [
            'nodes serving',
            'queries/s',
            'p50 ms',
            'p99 ms',
            'share of searches',
            'extra node requests',
            'errors',
          ],
          rows,
        ),
        '',
        '### Goals',
        '',
        `- extra requests from hedging in steady state (3 healthy nodes) ≤ 10 %: ${goalVerdict(steadyExtra <= 0.1, `${(steadyExtra * 100).toFixed(1)} %`, '≤ 10 %')}`,
      ].join('\n');
    } finally {
      await cluster.stop();
    }
  },
};
