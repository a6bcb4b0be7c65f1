/**
 * Suite "edge": what the edge Worker adds to a search. The same closed-loop load (concurrency 8,
 * fixed duration) sent straight to the master, through the edge (workerd, routing table, one
 * upstream fetch), through a Worker that only relays to the master (the workerd + Miniflare
 * floor, ../workerd-passthrough.ts) and through a plain nginx reverse proxy to the master,
 * interleaved in rounds so a noisy spell of the machine hits all alike. The CPU seconds each
 * process used per request (/proc, ../proc-cpu.ts) say where the time goes: on this machine
 * workerd, the node and the load generator share 2 cores.
 */
import { join } from 'node:path';
import { startCluster } from '../../cluster/launch.ts';
import { ingestThroughEdge } from '../context.ts';
import { benchQueries } from '../../corpus/synthetic.ts';
import { warmUp } from '../load.ts';
import { findNginx, NGINX_HINT, startNginxProxy, type NginxProxy } from '../nginx.ts';
import { emptyCell, measureInto, reportCell, type CellTotals } from '../probe.ts';
import { formatCount, formatMs, formatRatio, goalVerdict, markdownTable, ratio } from '../stats.ts';
import type { Suite } from '../suite.ts';
import { cpuSeconds, descendantsNamed, parentOf } from '../proc-cpu.ts';
import { startPassThrough, type PassThrough } from '../workerd-passthrough.ts';

const CONCURRENCY = 8;

interface Target {
  name: string;
  url: string;
  cell: CellTotals;
  /** The proxy's processes, whose CPU is counted (none for direct and nginx). */
  pids: number[];
  cpu: { proxySeconds: number; nodeSeconds: number; requests: number };
}

const emptyCpu = () => ({ proxySeconds: 0, nodeSeconds: 0, requests: 0 });
const sumCpu = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

export const edgeSuite: Suite = {
  name: 'edge',
  title: 'Edge overhead: direct vs edge vs nginx',
  async run(ctx) {
    ctx.progress('  starting a 1-node cluster with the edge (workerd)');
    const cluster = await startCluster({
      nodes: 1,
      redisUrl: ctx.redis.url,
      dataDir: join(ctx.dir, 'edge-cluster'),
      // The same unauthenticated load goes to the node directly, through nginx and the edge.
      // The node logs at warn in every bench; the edge too (no access line per search).
      edgeVars: { PUBLIC_SEARCH: 'true', LOG_LEVEL: 'warn' },
      nodeEnv: { LOG_LEVEL: 'warn' },
      onProgress: (m) => ctx.progress(`  ${m}`),
    });
    let nginx: NginxProxy | null = null;
    let relay: PassThrough | null = null;
    try {
      await ingestThroughEdge(cluster, ctx.sizes.clusterDocs, 'applied');
      const master = cluster.nodes[0]!;
      const nginxBin = findNginx();
      if (nginxBin) nginx = await startNginxProxy(nginxBin, master.url, join(ctx.dir, 'nginx'));
      else ctx.progress(`  ${NGINX_HINT}`);
      const edgeWorkerd = descendantsNamed(process.pid, 'workerd');
      // The edge's workerd and the Node process hosting it (Miniflare: it reads workerd's log lines).
      const edgeProcesses = [...edgeWorkerd, ...new Set(edgeWorkerd.map(parentOf))];
      relay = await startPassThrough(master.url);
      const relayWorkerd = descendantsNamed(process.pid, 'workerd').filter((p) => !edgeWorkerd.includes(p));
      const nodePid = master.child.pid!;
      const targets: Target[] = [
        { name: 'direct', url: master.url, cell: emptyCell(), pids: [], cpu: emptyCpu() },
        {
          name: 'edge',
          url: cluster.state.edge_url,
          cell: emptyCell(),
          pids: edgeProcesses,
          cpu: emptyCpu(),
        },
        { name: 'workerd relay', url: relay.url, cell: emptyCell(), pids: relayWorkerd, cpu: emptyCpu() },
        {
          name: 'workerd relay, direct socket',
          url: relay.directUrl,
          cell: emptyCell(),
          pids: relayWorkerd,
          cpu: emptyCpu(),
        },
        ...(nginx ? [{ name: 'nginx', url: nginx.url, cell: emptyCell(), pids: [], cpu: emptyCpu() }] : []),
      ];
      const queries = benchQueries(5000, 31);
      for (const t of targets) await warmUp(`${t.url}/api/v1/search`, queries, 200);
      const rounds = ctx.quick ? 2 : 6;
      const durationMs = ctx.quick ? 1500 : 4000;
      for (let round = 0; round < rounds; round++) {
        // Rotate the order each round so no target always follows the same one.
        const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
        ctx.progress(`  round ${round + 1}/${rounds}: ${order.map((t) => t.name).join(', ')}`);
        for (const t of order) {
          const before = { proxy: sumCpu(t.pids), node: cpuSeconds(nodePid), answered: t.cell.answered };
          await measureInto(t.cell, {
            searchUrl: `${t.url}/api/v1/search`,
            nodeUrl: null,
            concurrency: CONCURRENCY,
            durationMs,
            queries,
          });
          t.cpu.proxySeconds += sumCpu(t.pids) - before.proxy;
          t.cpu.nodeSeconds += cpuSeconds(nodePid) - before.node;
          t.cpu.requests += t.cell.answered - before.answered;
        }
      }
      const direct = reportCell(targets[0]!.cell);
      const rows = targets.map((t) => {
        const r = reportCell(t.cell);
        return [
          t.name,
          formatCount(r.qps),
          formatMs(r.latency.p50),
          formatMs(r.latency.p99),
          formatMs(r.tookMean),
          formatRatio(ratio(r.latency.p50, direct.latency.p50)),
          formatRatio(ratio(r.latency.p99, direct.latency.p99)),
          t.pids.length > 0 ? formatMs((1000 * t.cpu.proxySeconds) / t.cpu.requests) : '–',
          formatMs((1000 * t.cpu.nodeSeconds) / t.cpu.requests),
          r.failures,
        ];
      });
      const edgeP50 = ratio(reportCell(targets[1]!.cell).latency.p50, direct.latency.p50);
      return [
        `One search node (default model, Flat, ${formatCount(ctx.sizes.clusterDocs)} documents); concurrency ${CONCURRENCY}; ${rounds} rounds of ${durationMs / 1000} s per target, order rotated each round. ` +
          'Edge = the Worker in local workerd (Miniflare, same wrangler.toml); workerd relay = a Worker that only relays the request to the master, in workerd through Miniflare like the edge (the floor of any Worker here), and the same Worker on a socket straight to it, without the Miniflare entry worker (a local-only layer); nginx = a plain keep-alive reverse proxy (1 worker) to the master. ' +
          'All on this machine, so the proxies compete with the node for the same 2 cores: the CPU columns are CPU ms per answered search from /proc over the whole run (proxy: the edge workerd and the Node process hosting it through Miniflare, or the relay workerd; node: the search node).',
        '',
        markdownTable(
          [
            'path',
            'queries/s',
            'p50 ms',
            'p99 ms',
            'node took ms',
            'p50 ÷ direct',
            'p99 ÷ direct',
            'proxy CPU ms/req',
            'node CPU ms/req',
            'errors',
          ],
          rows,
        ),
        '',
        nginx ? '' : `${NGINX_HINT}.\n`,
        '### Goals',
        '',
        `- edge within 1.15× of direct at p50: ${goalVerdict(edgeP50 <= 1.15, formatRatio(edgeP50), '≤ 1.15×')}`,
        `- edge within 1.3× of direct at p50 (the limit): ${goalVerdict(edgeP50 <= 1.3, formatRatio(edgeP50), '≤ 1.3×')}`,
        `- Miniflare's entry worker (local only): relay p50 ÷ relay direct-socket p50 = ${formatRatio(ratio(reportCell(targets[2]!.cell).latency.p50, reportCell(targets[3]!.cell).latency.p50))}`,
        `- of that, the workerd + Miniflare floor (relay p50 ÷ direct): ${formatRatio(ratio(reportCell(targets[2]!.cell).latency.p50, direct.latency.p50))}; the edge's own code (edge p50 ÷ relay): ${formatRatio(ratio(reportCell(targets[1]!.cell).latency.p50, reportCell(targets[2]!.cell).latency.p50))}`,
      ].join('\n');
    } finally {
      await relay?.stop();
      await nginx?.stop();
      await cluster.stop();
    }
  },
};
