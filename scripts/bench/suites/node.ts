/**
 * Suite "node": one search node with the default model on the largest dataset. Ingest throughput
 * through the node's own log; then queries/s, latency and /health under closed-loop load at
 * concurrency 1, 8 and 32, with micro-batching on and off side by side (two node processes on
 * copies of the same data, measured in alternating cells), and where each search's time goes.
 */
import { join } from 'node:path';
import { createEmbedder } from '../../../worker-node/embedder/index.ts';
import { ROOT } from '../../cluster/node-process.ts';
import { UPSERT_BATCH, type BenchContext } from '../context.ts';
import { benchDocs, benchQueries } from '../../corpus/synthetic.ts';
import { warmUp } from '../load.ts';
import { emptyCell, measureInto, reportCell, type CellTotals } from '../probe.ts';
import {
  formatCount,
  formatMs,
  formatRatio,
  goalVerdict,
  markdownTable,
  perSecond,
  ratio,
} from '../stats.ts';
import type { Suite } from '../suite.ts';

const CONCURRENCY = [1, 8, 32];
const MODES = [
  { name: 'on', env: '1' },
  { name: 'off', env: '0' },
] as const;

export const nodeSuite: Suite = {
  name: 'node',
  title: 'Search node: ingest, queries/s, latency, micro-batching',
  async run(ctx) {
    const build = await ctx.datasets();
    const size = build.docs;
    const embedRef = await embedderAlone(ctx);
    ctx.progress(
      `  starting two nodes on copies of ${formatCount(size)} documents: EMBED_BATCHING=1 and EMBED_BATCHING=0`,
    );
    const nodes = await Promise.all(
      MODES.map(async (mode) => {
        const dataDir = join(ctx.dir, `node-batching-${mode.name}`);
        await ctx.copyDataset(size, dataDir);
        return {
          mode,
          proc: await ctx.startNode({
            id: `batching-${mode.name}`,
            dataDir,
            env: { EMBED_BATCHING: mode.env },
          }),
        };
      }),
    );
    const queries = benchQueries(5000, 11);
    for (const n of nodes) await warmUp(`${n.proc.url}/api/v1/search`, queries, 200);

    const cells = new Map<string, CellTotals>();
    const durationMs = ctx.sizes.cellSeconds * 1000;
    for (let round = 0; round < ctx.sizes.rounds; round++) {
      for (const c of CONCURRENCY) {
        // Alternate which mode goes first, so a slow spell of the machine hits both alike.
        const order = (round + c) % 2 === 0 ? nodes : [...nodes].reverse();
        for (const n of order) {
          ctx.progress(`  round ${round + 1}/${ctx.sizes.rounds}: batching ${n.mode.name}, concurrency ${c}`);
          const key = `${n.mode.name}:${c}`;
          const cell = cells.get(key) ?? emptyCell();
          cells.set(key, cell);
          await measureInto(cell, {
            searchUrl: `${n.proc.url}/api/v1/search`,
            nodeUrl: n.proc.url,
            concurrency: c,
            durationMs,
            queries,
          });
        }
      }
    }
    for (const n of nodes) await n.proc.stop();

    const rep = (mode: string, c: number) => reportCell(cells.get(`${mode}:${c}`)!);
    const rows = [];
    for (const c of CONCURRENCY) {
      for (const mode of MODES) {
        const r = rep(mode.name, c);
        rows.push([
          mode.name,
          c,
          formatCount(r.qps),
          formatMs(r.latency.p50),
          formatMs(r.latency.p99),
          formatMs(r.health.p50),
          formatMs(r.health.p99),
          formatMs(r.stageMeans.queue),
          formatMs(r.stageMeans.embed),
          formatMs(r.stageMeans.search),
          formatMs(r.stageMeans.metadata),
          formatMs(r.tookMean),
          Number.isFinite(r.meanBatch) ? r.meanBatch.toFixed(1) : '–',
          r.failures,
        ]);
      }
    }
    const ratioRows = CONCURRENCY.map((c) => {
      const on = rep('on', c);
      const off = rep('off', c);
      return [
        c,
        formatRatio(ratio(on.qps, off.qps)),
        formatRatio(ratio(on.latency.p50, off.latency.p50)),
        formatRatio(ratio(on.latency.p99, off.latency.p99)),
      ];
    });
    const full32 = [rep('on', 32), rep('off', 32)];
    const healthP99 = Math.max(...full32.map((r) => r.health.p99));
    const speedup = ratio(full32[0]!.qps, full32[1]!.qps);

    return [
      `Corpus: ${formatCount(size)} synthetic documents (scripts/bench/corpus.ts), model \`.gte/models/glove-100d-demo\`, index Flat, CPU.`,
      '',
      '### Ingest',
      '',
      markdownTable(
        ['path', 'documents', 'seconds', 'docs/s'],
        [
          [
            `node: POST /api/v1/documents, ${UPSERT_BATCH} per request, ${build.inflight} in flight, wait "applied" (queue → embed → fenced log append → apply)`,
            formatCount(build.docs),
            (build.ms / 1000).toFixed(1),
            formatCount(build.docsPerSec),
          ],
          [
            `reference: the embedder alone, in-process, batches of 64`,
            formatCount(embedRef.docs),
            (embedRef.ms / 1000).toFixed(1),
            formatCount(perSecond(embedRef.docs, embedRef.ms)),
          ],
        ],
      ),
      '',
      `### Search under load (${ctx.sizes.rounds} interleaved round(s) of ${ctx.sizes.cellSeconds} s per cell; /health polled at 20/s during each cell)`,
      '',
      "Stage columns are means per search in ms, from the node's `gte_node_search_stage_seconds` histogram (queue: waiting for an embedding batch); `took` is the node's own total; latency is what the client saw.",
      '',
      markdownTable(
        [
          'batching',
          'conc',
          'queries/s',
          'p50 ms',
          'p99 ms',
          '/health p50',
          '/health p99',
          'queue',
          'embed',
          'search',
          'metadata',
          'took',
          'mean batch',
          'errors',
        ],
        rows,
      ),
      '',
      'Batching on ÷ off, same run:',
      '',
      markdownTable(['conc', 'queries/s', 'p50', 'p99'], ratioRows),
      '',
      '### Goals',
      '',
      `- /health p99 < 15 ms under full load (concurrency 32, worse of the two nodes): ${goalVerdict(healthP99 < 15, `${formatMs(healthP99)} ms`, '< 15 ms')}`,
      `- micro-batching at concurrency 32 ≥ 2× unbatched queries/s: ${goalVerdict(speedup >= 2, formatRatio(speedup), '≥ 2.00×')}`,
    ].join('\n');
  },
};

/** The embedder's own throughput on the same texts: how much of the ingest time is embedding. */
async function embedderAlone(ctx: BenchContext): Promise<{ docs: number; ms: number }> {
  const docs = benchDocs(0, ctx.quick ? 1024 : 5120).map((d) => d.text);
  const embedder = await createEmbedder({
    modelDir: process.env.MODEL_DIR ?? join(ROOT, '.gte', 'models', 'glove-100d-demo'),
    device: 'cpu',
  });
  try {
    await embedder.embed(docs.slice(0, 64));
    const started = performance.now();
    for (let i = 0; i < docs.length; i += 64) await embedder.embed(docs.slice(i, i + 64));
    return { docs: docs.length, ms: performance.now() - started };
  } finally {
    await embedder.close();
  }
}
