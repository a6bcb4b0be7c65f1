/**
 * Suite "node": search nodes with the default model on the largest dataset, then with the
 * transformer-shaped benchmark model on a smaller one (node-transformer.ts). Ingest throughput
 * through the node's own log; then queries/s, latency and /health under closed-loop load at
 * concurrency 1, 8 and 32, with micro-batching on and off side by side (two node processes on
 * copies of the same data, measured in alternating cells), and where each search's time goes.
 */
import { join } from 'node:path';
import { ROOT } from '../../cluster/node-process.ts';
import { UPSERT_BATCH } from '../context.ts';
import { benchQueries } from '../../corpus/synthetic.ts';
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
import { embedderAlone, runLoadMatrix } from './node-load.ts';
import { transformerSection } from './node-transformer.ts';

const DEFAULT_MODEL_DIR = process.env.MODEL_DIR ?? join(ROOT, '.gte', 'models', 'glove-100d-demo');

export const nodeSuite: Suite = {
  name: 'node',
  title: 'Search node: ingest, queries/s, latency, micro-batching',
  async run(ctx) {
    const build = await ctx.datasets();
    const size = build.docs;
    const embedRef = await embedderAlone(DEFAULT_MODEL_DIR, ctx.quick ? 1024 : 5120);
    ctx.progress(
      `  starting two nodes on copies of ${formatCount(size)} documents: EMBED_BATCHING=1 and EMBED_BATCHING=0`,
    );
    const queries = benchQueries(5000, 11);
    const matrix = await runLoadMatrix(ctx, {
      label: 'default',
      prepare: (dataDir) => ctx.copyDataset(size, dataDir),
      rounds: ctx.sizes.rounds,
      queries,
    });
    const rep = matrix.rep;
    const full32 = [rep('on', 32), rep('off', 32)];
    const healthP99 = Math.max(...full32.map((r) => r.health.p99));
    const speedup = ratio(full32[0]!.qps, full32[1]!.qps);
    const transformer = await transformerSection(ctx);

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
      matrix.markdown,
      '',
      transformer.markdown,
      '',
      '### Goals',
      '',
      `- /health p99 < 15 ms under full load, default model (concurrency 32, worse of the two nodes): ${goalVerdict(healthP99 < 15, `${formatMs(healthP99)} ms`, '< 15 ms')}`,
      `- micro-batching at concurrency 32 ≥ 2× unbatched queries/s with the transformer-shaped model (hybrid searches): ${goalVerdict(transformer.speedup >= 2, formatRatio(transformer.speedup), '≥ 2.00×')}`,
      `- the same with the default model, whose query embedding is a table lookup of ~1 ms (nothing for batching to save; not a goal): ${formatRatio(speedup)}`,
    ].join('\n');
  },
};
