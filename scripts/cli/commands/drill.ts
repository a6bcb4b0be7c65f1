/**
 * `gte-pro drill`: a planned switchover under a light search load the drill makes itself.
 * Measures what clients would see: failed searches (any non-2xx or no answer) before, during and
 * after the hand-over, and the time from asking for the switchover until a search is served by
 * the new master at the new epoch. Exit 0 only for a succeeded switchover with no failed search.
 */
import { intOption } from '../args.ts';
import { requireAdminToken } from '../config.ts';
import type { Command } from '../context.ts';
import type { EdgeClient } from '../edge-client.ts';
import { CliError } from '../errors.ts';
import { formatDuration, renderReport, table } from '../format.ts';

const QUERIES = [
  'how do I reset my password',
  'refund policy',
  'GPU node failover',
  'replication lag',
  'install on debian',
  'search latency',
];

export interface Sample {
  at: number;
  ms: number;
  ok: boolean;
  node: string | null;
  epoch: number | null;
  error?: string;
}

export interface DrillResult {
  outcome: string;
  from: string | null;
  to: string;
  epoch: number;
  report_id: string;
  switchover_ms: number;
  /** From asking for the switchover to the first search served by the new master at its epoch; null if never seen. */
  new_master_serving_ms: number | null;
  searches: number;
  failed: number;
  failures: { error: string; count: number }[];
  latency_ms: { p50: number; p99: number; max: number };
  served_by: Record<string, number>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The drill's numbers from its samples; pure, so it is unit-tested. */
export function summarizeDrill(
  samples: Sample[],
  switchover: { startedAt: number; finishedAt: number; to: string; epoch: number },
): Pick<
  DrillResult,
  'new_master_serving_ms' | 'searches' | 'failed' | 'failures' | 'latency_ms' | 'served_by'
> {
  const firstServing = samples
    .filter(
      (s) =>
        s.ok &&
        s.node === switchover.to &&
        (s.epoch ?? 0) >= switchover.epoch &&
        s.at + s.ms >= switchover.startedAt,
    )
    .map((s) => s.at + s.ms)
    .sort((a, b) => a - b)[0];
  const failures = new Map<string, number>();
  const servedBy: Record<string, number> = {};
  for (const s of samples) {
    if (!s.ok) failures.set(s.error ?? 'unknown', (failures.get(s.error ?? 'unknown') ?? 0) + 1);
    else if (s.node) servedBy[s.node] = (servedBy[s.node] ?? 0) + 1;
  }
  const latencies = samples.map((s) => s.ms).sort((a, b) => a - b);
  return {
    new_master_serving_ms:
      firstServing === undefined ? null : Math.max(0, firstServing - switchover.startedAt),
    searches: samples.length,
    failed: samples.filter((s) => !s.ok).length,
    failures: [...failures].map(([error, count]) => ({ error, count })).sort((a, b) => b.count - a.count),
    latency_ms: {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? 0,
    },
    served_by: servedBy,
  };
}

/** Search loops that record every answer until stopped. */
function startLoad(client: EdgeClient, concurrency: number): { samples: Sample[]; stop(): Promise<void> } {
  const samples: Sample[] = [];
  let running = true;
  const loop = async (worker: number) => {
    for (let i = worker; running; i += concurrency) {
      const at = Date.now();
      try {
        const answer = await client.search({ query: QUERIES[i % QUERIES.length]!, top_k: 3 }, 5000);
        samples.push({
          at,
          ms: Date.now() - at,
          ok: true,
          node: answer.served_by.node,
          epoch: answer.served_by.epoch,
        });
      } catch (err) {
        samples.push({
          at,
          ms: Date.now() - at,
          ok: false,
          node: null,
          epoch: null,
          error: (err as Error).message.slice(0, 200),
        });
      }
      // Light load: a short pause per loop keeps a 2-core laptop cluster responsive.
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const loops = Array.from({ length: concurrency }, (_, w) => loop(w));
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function renderDrill(r: DrillResult): string {
  const verdict = r.outcome === 'succeeded' && r.failed === 0 ? 'PASS' : 'FAIL';
  const lines = [
    `drill ${verdict}: switchover ${r.from ?? '(none)'} → ${r.to} at epoch ${r.epoch} ${r.outcome} (report ${r.report_id})`,
    '',
    table([
      ['switchover call', formatDuration(r.switchover_ms)],
      [
        'new master serving after',
        r.new_master_serving_ms === null ? 'NOT SEEN' : formatDuration(r.new_master_serving_ms),
      ],
      ['searches', String(r.searches)],
      ['failed searches', String(r.failed)],
      ['latency p50 / p99 / max', `${r.latency_ms.p50} / ${r.latency_ms.p99} / ${r.latency_ms.max} ms`],
      [
        'served by',
        Object.entries(r.served_by)
          .map(([n, c]) => `${n} ${c}`)
          .join(', ') || '—',
      ],
    ]),
  ];
  if (r.failures.length > 0) {
    lines.push('', 'failures:');
    for (const f of r.failures) lines.push(`  ${f.count}× ${f.error}`);
  }
  return `${lines.join('\n')}\n`;
}

export const drillCommand: Command = async ({ client, values, out, err }) => {
  const concurrency = intOption(values, 'concurrency', 1, 16, 2);
  const warmupMs = intOption(values, 'warmup-ms', 0, 600_000, 2000);
  const settleMs = intOption(values, 'settle-ms', 0, 600_000, 2000);
  const timeoutMs = intOption(values, 'timeout-ms', 1000, 600_000, 30_000);
  requireAdminToken(client.target, 'drill');

  const before = await client.status();
  if (!before.current_master)
    throw new CliError('the cluster has no master: nothing to switch over from; check `gte-pro status`');
  const candidates = before.nodes.filter((n) => n.id !== before.current_master && n.state === 'up');
  if (candidates.length === 0)
    throw new CliError(
      `no healthy standby to switch over to (master ${before.current_master}); start another node or check \`gte-pro status\``,
    );
  if (before.failover_in_progress)
    throw new CliError('a failover is in progress; run the drill when it is done (`gte-pro status`)');

  err(
    `drill: master ${before.current_master} at epoch ${before.epoch}; ${concurrency} search loop(s), ${formatDuration(warmupMs)} warm-up\n`,
  );
  const load = startLoad(client, concurrency);
  let report: Awaited<ReturnType<typeof client.switchover>> | undefined;
  let startedAt = 0;
  let finishedAt = 0;
  try {
    await sleep(warmupMs);
    err(`drill: switchover${values.to ? ` to ${values.to as string}` : ''}…\n`);
    startedAt = Date.now();
    report = await client.switchover(values.to as string | undefined);
    finishedAt = Date.now();
    err(
      `drill: switchover ${report.outcome} (${report.from} → ${report.to}, epoch ${report.epoch}); waiting for ${report.to} to serve searches\n`,
    );
    const deadline = Date.now() + timeoutMs;
    const served = () =>
      load.samples.some(
        (s) => s.ok && s.node === report!.to && (s.epoch ?? 0) >= report!.epoch && s.at >= startedAt,
      );
    while (report.outcome === 'succeeded' && !served() && Date.now() < deadline) await sleep(50);
    await sleep(settleMs);
  } finally {
    await load.stop();
  }
  const result: DrillResult = {
    outcome: report.outcome,
    from: report.from,
    to: report.to,
    epoch: report.epoch,
    report_id: report.id,
    switchover_ms: finishedAt - startedAt,
    ...summarizeDrill(load.samples, { startedAt, finishedAt, to: report.to, epoch: report.epoch }),
  };
  if (values.json) out(`${JSON.stringify({ ...result, report }, null, 2)}\n`);
  else out(`${renderDrill(result)}\n${renderReport(report)}`);
  return result.outcome === 'succeeded' && result.failed === 0 && result.new_master_serving_ms !== null
    ? 0
    : 1;
};
