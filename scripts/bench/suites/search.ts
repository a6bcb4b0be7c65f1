/**
 * Suite "search": how latency grows with the corpus. One node per dataset size (Flat), plus an
 * HNSW32 node on the largest, all started first and then measured in interleaved rounds at
 * concurrency 8; the stage split says whether the time goes to embedding, FAISS or SQLite.
 */
import { join } from 'node:path';
import { benchQueries } from '../../corpus/synthetic.ts';
import { warmUp } from '../load.ts';
import { emptyCell, measureInto, reportCell, type CellTotals } from '../probe.ts';
import { formatCount, formatMs, formatRatio, markdownTable, ratio } from '../stats.ts';
import type { Suite } from '../suite.ts';

const CONCURRENCY = 8;

export const searchSuite: Suite = {
  name: 'search',
  title: 'Search latency by corpus size and index type',
  async run(ctx) {
    await ctx.datasets();
    const sizes = [...ctx.sizes.datasets].sort((a, b) => a - b);
    const largest = sizes[sizes.length - 1]!;
    const configs = [
      ...sizes.map((size) => ({ size, factory: 'Flat' })),
      { size: largest, factory: 'HNSW32' },
    ];
    // Started together (the HNSW build dominates); "ready in" is therefore under shared CPU.
    ctx.progress(
      `  starting ${configs.length} nodes: ${configs.map((c) => `${c.factory} ${formatCount(c.size)}`).join(', ')}`,
    );
    const targets = await Promise.all(
      configs.map(async (cfg) => {
        const id = `search-${cfg.size}-${cfg.factory.toLowerCase()}`;
        const dataDir = join(ctx.dir, id);
        await ctx.copyDataset(cfg.size, dataDir);
        const started = performance.now();
        const proc = await ctx.startNode({ id, dataDir, env: { INDEX_FACTORY: cfg.factory } });
        return { ...cfg, proc, readyMs: performance.now() - started, cell: emptyCell() as CellTotals };
      }),
    );
    const queries = benchQueries(5000, 23);
    for (const t of targets) await warmUp(`${t.proc.url}/api/v1/search`, queries, 100);
    const durationMs = ctx.sizes.cellSeconds * 1000;
    for (let round = 0; round < ctx.sizes.rounds; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) {
        ctx.progress(
          `  round ${round + 1}/${ctx.sizes.rounds}: ${t.factory} at ${formatCount(t.size)} documents, concurrency ${CONCURRENCY}`,
        );
        await measureInto(t.cell, {
          searchUrl: `${t.proc.url}/api/v1/search`,
          nodeUrl: t.proc.url,
          concurrency: CONCURRENCY,
          durationMs,
          queries,
          healthIntervalMs: 0,
        });
      }
    }
    // Recall of HNSW against Flat on the same corpus: the share of Flat's top 5 that HNSW returns.
    const flat = targets.find((t) => t.size === largest && t.factory === 'Flat')!;
    const hnsw = targets.find((t) => t.factory === 'HNSW32')!;
    let found = 0;
    let total = 0;
    for (const q of queries.slice(0, 100)) {
      const [a, b] = await Promise.all([flat.proc.client.search(q, 5), hnsw.proc.client.search(q, 5)]);
      const want = new Set(a.body.results.map((r) => r.id));
      total += want.size;
      found += b.body.results.filter((r) => want.has(r.id)).length;
    }
    for (const t of targets) await t.proc.stop();

    const base = reportCell(targets[0]!.cell);
    const rows = targets.map((t) => {
      const r = reportCell(t.cell);
      return [
        t.factory,
        formatCount(t.size),
        (t.readyMs / 1000).toFixed(1),
        formatCount(r.qps),
        formatMs(r.latency.p50),
        formatMs(r.latency.p99),
        formatRatio(ratio(r.latency.p50, base.latency.p50)),
        formatMs(r.stageMeans.queue),
        formatMs(r.stageMeans.embed),
        formatMs(r.stageMeans.search),
        formatMs(r.stageMeans.metadata),
        formatMs(r.tookMean),
        formatMs(r.latency.mean - r.tookMean),
        r.failures,
      ];
    });
    return [
      `Concurrency ${CONCURRENCY}, ${ctx.sizes.rounds} interleaved round(s) of ${ctx.sizes.cellSeconds} s per node, micro-batching on, default model, CPU. ` +
        "Stage columns are means per search in ms (`gte_node_search_stage_seconds`); `took` is the node's own total, `outside` is client latency minus `took` (HTTP, JSON, event-loop wait).",
      '',
      markdownTable(
        [
          'index',
          'documents',
          'ready in s',
          'queries/s',
          'p50 ms',
          'p99 ms',
          'p50 vs smallest',
          'queue',
          'embed',
          'search',
          'metadata',
          'took',
          'outside',
          'errors',
        ],
        rows,
      ),
      '',
      `HNSW32 recall@5 against Flat at ${formatCount(largest)} documents (100 queries): ${total > 0 ? ((found / total) * 100).toFixed(1) : '–'} %.`,
      `"ready in s" is process start to a ready /health, all nodes started together; the HNSW32 node builds its index from the stored vectors on open (the dataset's snapshot is a Flat index), and the smaller Flat copies rebuild theirs too (they carry only the database).`,
    ].join('\n');
  },
};
