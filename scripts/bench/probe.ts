/**
 * Measuring one search target under closed-loop load: /health polled on the side, the node's stage
 * histograms scraped before and after, results accumulated over interleaved rounds.
 */
import { type LoadOptions, pollHealth, runLoad } from './load.ts';
import { cpuSeconds } from './proc-cpu.ts';
import { addTotals, histogramTotals, meanOf, subtractTotals, type TotalsByLabel } from './prom.ts';
import { perSecond, summarize, type Summary } from './stats.ts';

export const STAGES = ['queue', 'embed', 'search', 'metadata'] as const;

export interface CellTotals {
  latenciesMs: number[];
  tookMs: number[];
  healthMs: number[];
  /** The event-loop lag the node reported in each /health answer. */
  loopLagMs: number[];
  healthFailures: number;
  failures: number;
  answered: number;
  durationMs: number;
  stages: TotalsByLabel;
  batchSizes: TotalsByLabel;
  /** CPU seconds the node process used during the cells (when its pid was given). */
  nodeCpuS: number;
  /** CPU seconds this process (the load generator and the /health poller) used during the cells. */
  clientCpuS: number;
}

export function emptyCell(): CellTotals {
  return {
    latenciesMs: [],
    tookMs: [],
    healthMs: [],
    loopLagMs: [],
    healthFailures: 0,
    failures: 0,
    answered: 0,
    durationMs: 0,
    stages: new Map(),
    batchSizes: new Map(),
    nodeCpuS: 0,
    clientCpuS: 0,
  };
}

export interface CellReport {
  qps: number;
  latency: Summary;
  health: Summary;
  loopLag: Summary;
  tookMean: number;
  stageMeans: Record<(typeof STAGES)[number], number>;
  meanBatch: number;
  failures: number;
  /** CPU ms per answered search: the node process's, and the load generator's. */
  nodeCpuMsPerQuery: number;
  clientCpuMsPerQuery: number;
  /** Cores in use on average: the node's and the load generator's. */
  nodeCores: number;
  clientCores: number;
}

export function reportCell(c: CellTotals): CellReport {
  const stageMeans = Object.fromEntries(
    STAGES.map((s) => [s, meanOf(c.stages.get(s))]),
  ) as CellReport['stageMeans'];
  const took = c.tookMs.length > 0 ? c.tookMs.reduce((a, b) => a + b, 0) / c.tookMs.length : NaN;
  return {
    qps: perSecond(c.answered, c.durationMs),
    latency: summarize(c.latenciesMs),
    health: summarize(c.healthMs),
    loopLag: summarize(c.loopLagMs),
    tookMean: took,
    stageMeans,
    meanBatch: meanOf(c.batchSizes.get(''), 1),
    failures: c.failures + c.healthFailures,
    nodeCpuMsPerQuery: (c.nodeCpuS * 1000) / c.answered,
    clientCpuMsPerQuery: (c.clientCpuS * 1000) / c.answered,
    nodeCores: (c.nodeCpuS * 1000) / c.durationMs,
    clientCores: (c.clientCpuS * 1000) / c.durationMs,
  };
}

async function scrape(metricsUrl: string | null): Promise<string> {
  if (!metricsUrl) return '';
  try {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
    return await res.text();
  } catch {
    return '';
  }
}

export interface MeasureOptions {
  /** Where searches go (a node, the edge or a proxy). */
  searchUrl: string;
  /** The node whose /health is polled and /metrics scraped (null: neither). */
  nodeUrl: string | null;
  concurrency: number;
  durationMs: number;
  queries: readonly string[];
  /** Poll /health this often while the load runs (ms); 0: do not. */
  healthIntervalMs?: number;
  /** The search mode asked for (absent: the node's default). */
  mode?: LoadOptions['mode'];
  /** The node's process id, to count the CPU it used (absent: not counted). */
  nodePid?: number;
}

/** Runs one load cell and adds what it measured to `into`. */
export async function measureInto(into: CellTotals, o: MeasureOptions): Promise<void> {
  const metricsUrl = o.nodeUrl ? `${o.nodeUrl}/metrics` : null;
  const before = await scrape(metricsUrl);
  const poller =
    o.nodeUrl && (o.healthIntervalMs ?? 50) > 0
      ? pollHealth(`${o.nodeUrl}/health`, o.healthIntervalMs ?? 50)
      : null;
  const nodeCpuBefore = o.nodePid ? cpuSeconds(o.nodePid) : 0;
  const clientCpuBefore = process.cpuUsage();
  const load = await runLoad({
    url: o.searchUrl,
    concurrency: o.concurrency,
    durationMs: o.durationMs,
    queries: o.queries,
    mode: o.mode,
  });
  const health = poller ? await poller.stop() : { latenciesMs: [], failures: 0, loopLagMs: [] };
  const clientCpu = process.cpuUsage(clientCpuBefore);
  into.clientCpuS += (clientCpu.user + clientCpu.system) / 1e6;
  if (o.nodePid) into.nodeCpuS += cpuSeconds(o.nodePid) - nodeCpuBefore;
  const after = await scrape(metricsUrl);
  into.latenciesMs.push(...load.latenciesMs);
  into.tookMs.push(...load.tookMs);
  into.healthMs.push(...health.latenciesMs);
  into.loopLagMs.push(...health.loopLagMs);
  into.healthFailures += health.failures;
  into.failures += Object.values(load.failures).reduce((a, b) => a + b, 0);
  into.answered += load.latenciesMs.length;
  into.durationMs += load.durationMs;
  if (before && after) {
    into.stages = addTotals(
      into.stages,
      subtractTotals(
        histogramTotals(after, 'gte_node_search_stage_seconds', 'stage'),
        histogramTotals(before, 'gte_node_search_stage_seconds', 'stage'),
      ),
    );
    into.batchSizes = addTotals(
      into.batchSizes,
      subtractTotals(
        histogramTotals(after, 'gte_node_embed_batch_size'),
        histogramTotals(before, 'gte_node_embed_batch_size'),
      ),
    );
  }
}
