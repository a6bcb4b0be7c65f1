/**
 * Suite "edge": what the edge Worker adds to a search. The same closed-loop load (concurrency 8,
 * fixed duration) sent straight to the master, through the edge (workerd, routing table, one
 * upstream fetch) and through a plain nginx reverse proxy to the master, interleaved in rounds so a
 * noisy spell of the machine hits all three alike.
 */
import { join } from 'node:path';
import { startCluster } from '../../cluster/launch.ts';
import { UPSERT_BATCH } from '../context.ts';
import { benchDocs, benchQueries } from '../../corpus/synthetic.ts';
import { warmUp } from '../load.ts';
import { findNginx, NGINX_HINT, startNginxProxy, type NginxProxy } from '../nginx.ts';
import { emptyCell, measureInto, reportCell, type CellTotals } from '../probe.ts';
import { formatCount, formatMs, formatRatio, goalVerdict, markdownTable, ratio } from '../stats.ts';
import type { Suite } from '../suite.ts';

const CONCURRENCY = 8;

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
      edgeVars: { PUBLIC_SEARCH: 'true' },
      nodeEnv: { LOG_LEVEL: 'warn' },
      onProgress: (m) => ctx.progress(`  ${m}`),
    });
    let nginx: NginxProxy | null = null;
    try {
      for (let i = 0; i < ctx.sizes.clusterDocs; i += UPSERT_BATCH) {
        const res = await cluster.adminFetch('/api/v1/documents', {
          method: 'POST',
          json: {
            documents: benchDocs(i, Math.min(UPSERT_BATCH, ctx.sizes.clusterDocs - i)),
            wait: 'applied',
          },
        });
        if (res.status !== 200) throw new Error(`ingest through the edge: ${res.status} ${await res.text()}`);
      }
      const master = cluster.nodes[0]!;
      const nginxBin = findNginx();
      if (nginxBin) nginx = await startNginxProxy(nginxBin, master.url, join(ctx.dir, 'nginx'));
      else ctx.progress(`  ${NGINX_HINT}`);
      const targets: { name: string; url: string; cell: CellTotals }[] = [
        { name: 'direct', url: master.url, cell: emptyCell() },
        { name: 'edge', url: cluster.state.edge_url, cell: emptyCell() },
        ...(nginx ? [{ name: 'nginx', url: nginx.url, cell: emptyCell() }] : []),
      ];
      const queries = benchQueries(5000, 31);
      for (const t of targets) await warmUp(`${t.url}/api/v1/search`, queries, 200);
      const rounds = ctx.quick ? 2 : 6;
      const durationMs = ctx.quick ? 1500 : 4000;
      for (let round = 0; round < rounds; round++) {
        // Rotate the order each round so no target always follows the same one.
        const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
        ctx.progress(`  round ${round + 1}/${rounds}: ${order.map((t) => t.name).join(', ')}`);
        for (const t of order)
          await measureInto(t.cell, {
            searchUrl: `${t.url}/api/v1/search`,
            nodeUrl: null,
            concurrency: CONCURRENCY,
            durationMs,
            queries,
          });
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
          r.failures,
        ];
      });
      const edgeP50 = ratio(reportCell(targets[1]!.cell).latency.p50, direct.latency.p50);
      return [
        `One search node (default model, Flat, ${formatCount(ctx.sizes.clusterDocs)} documents); concurrency ${CONCURRENCY}; ${rounds} rounds of ${durationMs / 1000} s per target, order rotated each round. ` +
          'Edge = the Worker in local workerd (Miniflare, same wrangler.toml); nginx = a plain keep-alive reverse proxy (1 worker) to the master. All on this machine, so the proxies compete with the node for the same cores.',
        '',
        markdownTable(
          ['path', 'queries/s', 'p50 ms', 'p99 ms', 'node took ms', 'p50 ÷ direct', 'p99 ÷ direct', 'errors'],
          rows,
        ),
        '',
        nginx ? '' : `${NGINX_HINT}.\n`,
        '### Goals',
        '',
        `- edge within 1.15× of direct at p50: ${goalVerdict(edgeP50 <= 1.15, formatRatio(edgeP50), '≤ 1.15×')}`,
      ].join('\n');
    } finally {
      await nginx?.stop();
      await cluster.stop();
    }
  },
};
