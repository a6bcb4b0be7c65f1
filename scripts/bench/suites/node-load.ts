/**
 * The node suite's load matrix: two node processes on copies of the same data, one with
 * EMBED_BATCHING=1 and one with 0, measured in alternating cells at concurrency 1, 8 and 32, and
 * the tables that report them. Run once with the default model and once with the
 * transformer-shaped one (node-transformer.ts).
 */
import { join } from 'node:path';
import { createEmbedder } from '../../../worker-node/embedder/index.ts';
import { benchDocs } from '../../corpus/synthetic.ts';
import type { NodeProcess } from '../../cluster/node-process.ts';
import type { BenchContext } from '../context.ts';
import { warmUp } from '../load.ts';
import {
  type CellReport,
  type CellTotals,
  emptyCell,
  type MeasureOptions,
  measureInto,
  reportCell,
} from '../probe.ts';
import { formatCount, formatMs, formatRatio, markdownTable, ratio } from '../stats.ts';

export const CONCURRENCY = [1, 8, 32];
export const MODES = [
  { name: 'on', env: '1' },
  { name: 'off', env: '0' },
] as const;

export interface LoadMatrix {
  rep(mode: 'on' | 'off', c: number): CellReport;
  /** Per-mode rows (queries/s, latency, /health, stage means, batch size, errors), then on ÷ off. */
  markdown: string;
}

/**
 * Starts the two nodes (`prepare` fills each one's data directory), warms them, measures every
 * cell `rounds` times, and stops them.
 */
export async function runLoadMatrix(
  ctx: BenchContext,
  opts: {
    label: string;
    prepare(dataDir: string): Promise<void>;
    env?: Record<string, string>;
    rounds: number;
    queries: readonly string[];
    /** The search mode asked for (absent: the node's default). */
    mode?: MeasureOptions['mode'];
    /** The concurrency levels measured (default CONCURRENCY). */
    concurrency?: readonly number[];
  },
): Promise<LoadMatrix> {
  const levels = opts.concurrency ?? CONCURRENCY;
  const nodes: Array<{ mode: (typeof MODES)[number]; proc: NodeProcess }> = await Promise.all(
    MODES.map(async (mode) => {
      const dataDir = join(ctx.dir, `node-${opts.label}-batching-${mode.name}`);
      await opts.prepare(dataDir);
      return {
        mode,
        proc: await ctx.startNode({
          id: `${opts.label}-batching-${mode.name}`,
          dataDir,
          env: { ...opts.env, EMBED_BATCHING: mode.env },
        }),
      };
    }),
  );
  for (const n of nodes) await warmUp(`${n.proc.url}/api/v1/search`, opts.queries, 200);

  const cells = new Map<string, CellTotals>();
  const durationMs = ctx.sizes.cellSeconds * 1000;
  for (let round = 0; round < opts.rounds; round++) {
    for (const c of levels) {
      // Alternate which mode goes first, so a slow spell of the machine hits both alike.
      const order = (round + c) % 2 === 0 ? nodes : [...nodes].reverse();
      for (const n of order) {
        ctx.progress(
          `  ${opts.label} round ${round + 1}/${opts.rounds}: batching ${n.mode.name}, concurrency ${c}`,
        );
        const key = `${n.mode.name}:${c}`;
        const cell = cells.get(key) ?? emptyCell();
        cells.set(key, cell);
        await measureInto(cell, {
          searchUrl: `${n.proc.url}/api/v1/search`,
          nodeUrl: n.proc.url,
          concurrency: c,
          durationMs,
          queries: opts.queries,
          mode: opts.mode,
          nodePid: n.proc.child.pid,
        });
      }
    }
  }
  for (const n of nodes) await n.proc.stop();

  const rep = (mode: string, c: number) => reportCell(cells.get(`${mode}:${c}`)!);
  const rows = [];
  for (const c of levels) {
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
        `${formatMs(r.nodeCpuMsPerQuery)} / ${formatMs(r.clientCpuMsPerQuery)}`,
        `${r.nodeCores.toFixed(2)} / ${r.clientCores.toFixed(2)}`,
        r.failures,
      ]);
    }
  }
  const ratioRows = levels.map((c) => {
    const on = rep('on', c);
    const off = rep('off', c);
    return [
      c,
      formatRatio(ratio(on.qps, off.qps)),
      formatRatio(ratio(on.latency.p50, off.latency.p50)),
      formatRatio(ratio(on.latency.p99, off.latency.p99)),
    ];
  });
  const headers = ['batching', 'conc', 'queries/s', 'p50 ms', 'p99 ms', '/health p50', '/health p99'];
  const table = markdownTable(
    [
      ...headers,
      'queue',
      'embed',
      'search',
      'metadata',
      'took',
      'mean batch',
      'CPU ms/query node / client',
      'cores node / client',
      'errors',
    ],
    rows,
  );
  const ratios = markdownTable(['conc', 'queries/s', 'p50', 'p99'], ratioRows);
  return { rep, markdown: [table, '', 'Batching on ÷ off, same run:', '', ratios].join('\n') };
}

/** The embedder's own throughput on the same texts: how much of the ingest time is embedding. */
export async function embedderAlone(modelDir: string, count: number): Promise<{ docs: number; ms: number }> {
  const docs = benchDocs(0, count).map((d) => d.text);
  const embedder = await createEmbedder({ modelDir, device: 'cpu' });
  try {
    await embedder.embed(docs.slice(0, 64));
    const started = performance.now();
    for (let i = 0; i < docs.length; i += 64) await embedder.embed(docs.slice(i, i + 64));
    return { docs: docs.length, ms: performance.now() - started };
  } finally {
    await embedder.close();
  }
}

/**
 * The embedder's own cost per query text, in-process (no node, no search), one text at a time and
 * in batches of 16 and 32: how much a session run over many texts saves per text on this CPU,
 * the most micro-batching can give the node.
 */
export async function embedderBatchCurve(
  modelDir: string,
  queries: readonly string[],
): Promise<{ batch: number; msPerText: number }[]> {
  const embedder = await createEmbedder({ modelDir, device: 'cpu' });
  try {
    await embedder.embed(queries.slice(0, 32));
    const curve: { batch: number; msPerText: number }[] = [];
    for (const batch of [1, 16, 32]) {
      const n = batch === 1 ? 64 : 256;
      const started = performance.now();
      for (let i = 0; i < n; i += batch) await embedder.embed(queries.slice(i, i + batch));
      curve.push({ batch, msPerText: (performance.now() - started) / n });
    }
    return curve;
  } finally {
    await embedder.close();
  }
}
