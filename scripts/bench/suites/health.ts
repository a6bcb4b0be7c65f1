/**
 * Suite "health": the node's /health latency idle and while it serves a full search load
 * (concurrency 32, hybrid searches, the default mode), with the default model on the largest
 * dataset and with the transformer-shaped model. Per model, two nodes on copies of the same data:
 * compute threads below the event loop's priority (WORKER_THREAD_NICE=10, as deploy/ sets it)
 * and at the same priority (0, the setting's default). Idle and loaded cells alternate between them, so a slow spell of the
 * shared machine hits all alike. The event-loop lag the node reports beside each answer tells
 * work on the main thread apart from waiting for a core.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { benchQueries } from '../../corpus/synthetic.ts';
import type { NodeProcess } from '../../cluster/node-process.ts';
import type { BenchContext } from '../context.ts';
import { pollHealth, warmUp } from '../load.ts';
import { type CellTotals, emptyCell, measureInto, reportCell } from '../probe.ts';
import { formatCount, formatMs, goalVerdict, markdownTable, summarize } from '../stats.ts';
import type { Suite } from '../suite.ts';
import { mainThreadStalls } from './main-thread.ts';
import { transformerDataset } from './node-transformer.ts';

const LOAD_CONCURRENCY = 32;
const POLL_MS = 50;
const GOAL_P99_MS = 15;
const NICE = ['10', '0'] as const;

interface Setup {
  label: string;
  model: string;
  docs: number;
  prepare(dataDir: string): Promise<void>;
  env?: Record<string, string>;
}

async function measureIdle(node: NodeProcess, durationMs: number, into: { ms: number[]; lag: number[] }) {
  const poller = pollHealth(`${node.url}/health`, POLL_MS);
  await new Promise((r) => setTimeout(r, durationMs));
  const polled = await poller.stop();
  into.ms.push(...polled.latenciesMs);
  into.lag.push(...polled.loopLagMs);
}

async function measureSetup(ctx: BenchContext, setup: Setup) {
  const queries = benchQueries(2000, 13);
  const nodes = await Promise.all(
    NICE.map(async (nice) => {
      const dataDir = join(ctx.dir, `health-${setup.label}-nice-${nice}`);
      await setup.prepare(dataDir);
      const proc = await ctx.startNode({
        id: `health-${setup.label}-nice-${nice}`,
        dataDir,
        env: { ...setup.env, WORKER_THREAD_NICE: nice },
      });
      return {
        nice,
        proc,
        idle: { ms: [] as number[], lag: [] as number[] },
        loaded: emptyCell() as CellTotals,
      };
    }),
  );
  for (const n of nodes) await warmUp(`${n.proc.url}/api/v1/search`, queries, 100);
  const durationMs = ctx.sizes.cellSeconds * 1000;
  for (let round = 0; round < ctx.sizes.rounds; round++) {
    const order = round % 2 === 0 ? nodes : [...nodes].reverse();
    for (const n of order) {
      ctx.progress(
        `  ${setup.label} round ${round + 1}/${ctx.sizes.rounds}, WORKER_THREAD_NICE=${n.nice}: idle, loaded`,
      );
      await measureIdle(n.proc, durationMs, n.idle);
      await measureInto(n.loaded, {
        searchUrl: `${n.proc.url}/api/v1/search`,
        nodeUrl: n.proc.url,
        concurrency: LOAD_CONCURRENCY,
        durationMs,
        queries,
        healthIntervalMs: POLL_MS,
      });
    }
  }
  for (const n of nodes) await n.proc.stop();
  return nodes.map((n) => ({
    nice: n.nice,
    idle: summarize(n.idle.ms),
    idleLag: summarize(n.idle.lag),
    load: reportCell(n.loaded),
  }));
}

export const healthSuite: Suite = {
  name: 'health',
  title: 'Search node: /health idle and under a full search load',
  async run(ctx) {
    const size = Math.max(...ctx.sizes.datasets);
    const stalls = await mainThreadStalls(ctx, ctx.quick ? 3000 : 20_000);
    const transformer = await transformerDataset(ctx);
    const setups: Setup[] = [
      {
        label: 'default',
        model: 'default (GloVe 100-d)',
        docs: size,
        prepare: (dir) => ctx.copyDataset(size, dir),
      },
      {
        label: 'transformer',
        model: transformer.model.id,
        docs: transformer.docs,
        prepare: async (dir) => cpSync(transformer.template, dir, { recursive: true }),
        env: { MODEL_DIR: transformer.model.dir },
      },
    ];
    const rows = [];
    let worst = 0;
    let worstOneLevel = 0;
    for (const setup of setups) {
      for (const r of await measureSetup(ctx, setup)) {
        if (r.nice === NICE[0]) worst = Math.max(worst, r.load.health.p99);
        else worstOneLevel = Math.max(worstOneLevel, r.load.health.p99);
        rows.push([
          setup.model,
          formatCount(setup.docs),
          r.nice,
          formatMs(r.idle.p50),
          formatMs(r.idle.p99),
          formatMs(r.load.health.p50),
          formatMs(r.load.health.p99),
          formatMs(r.idleLag.max),
          formatMs(r.load.loopLag.p50),
          formatMs(r.load.loopLag.max),
          formatCount(r.load.qps),
          formatMs(r.load.latency.p50),
          formatMs(r.load.stageMeans.embed),
          formatMs(r.load.stageMeans.search),
          formatMs(r.load.stageMeans.metadata),
          r.load.failures,
        ]);
      }
    }
    return [
      `Index Flat, CPU, hybrid searches (vector + keyword) from ${LOAD_CONCURRENCY} closed-loop clients; /health polled every ${POLL_MS} ms from a thread of its own; ` +
        `${ctx.sizes.rounds} round(s) of ${ctx.sizes.cellSeconds} s idle then ${ctx.sizes.cellSeconds} s loaded per node, the two nodes of a model alternating. ` +
        '`nice`: WORKER_THREAD_NICE of the node (10: compute threads below the event loop, as deploy/ sets it; 0: one priority, the default). ' +
        '`loop lag`: the event-loop lag the node reported in its /health answers (its worst in the preceding second). ' +
        'Stage columns: mean ms per search (metadata includes the keyword ranking, which runs in the keyword reader thread beside the FAISS call).',
      '',
      markdownTable(
        [
          'model',
          'documents',
          'nice',
          'idle p50',
          'idle p99',
          'loaded p50',
          'loaded p99',
          'idle loop lag max',
          'loaded loop lag p50',
          'loaded loop lag max',
          'searches/s',
          'search p50',
          'embed',
          'search',
          'metadata',
          'errors',
        ],
        rows,
      ),
      '',
      stalls,
      '',
      `- /health p99 ≤ ${GOAL_P99_MS} ms under full load, either model, compute threads at nice ${NICE[0]} (deploy/'s setting): ${goalVerdict(worst <= GOAL_P99_MS, `${formatMs(worst)} ms`, `≤ ${GOAL_P99_MS} ms`)}`,
      `- the same with one priority for all threads (WORKER_THREAD_NICE=${NICE[1]}, the default for shared machines): ${formatMs(worstOneLevel)} ms`,
    ].join('\n');
  },
};
