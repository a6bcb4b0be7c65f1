/**
 * The chaos suite's summary: one table row per scenario over all its runs, the machine it ran on,
 * and every violation in full, as the Markdown written to CHAOS.md.
 */
import { cpus, totalmem } from 'node:os';
import type { RunResult } from './runner.ts';

export interface MachineInfo {
  nproc: number;
  memoryGiB: number;
  cpuModel: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return {
    nproc: cpu.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    node: process.version,
  };
}

function stats(values: (number | null)[]): string {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return '–';
  const median = v[Math.floor((v.length - 1) / 2)]!;
  return v.length === 1 ? `${median}` : `${median} / ${v.at(-1)}`;
}

const sum = (results: RunResult[], pick: (r: RunResult) => number) =>
  results.reduce((s, r) => s + pick(r), 0);

export function summaryTable(results: RunResult[]): string {
  const byScenario = new Map<string, RunResult[]>();
  for (const r of results) {
    if (r.skipped) continue; // listed under "Skipped", with the reason
    byScenario.set(r.scenario, [...(byScenario.get(r.scenario) ?? []), r]);
  }
  const rows = [
    '| scenario | runs | passed | searches | failed searches (healthy node existed) | stale / deleted / foreign answers | duplicate ids | acked writes | 202 writes: applied / failed / unresolved | lost acked writes | resurrected | node divergence | log epochs out of order | failovers | fault → new master, ms (median / max) | fault → first good answer, ms (median / max) | search p99, ms (median / max) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, runs] of byScenario) {
    const r = (pick: (x: RunResult) => number) => sum(runs, pick);
    rows.push(
      `| ${name} | ${runs.length} | ${runs.filter((x) => x.violations.length === 0).length} | ${r((x) => x.report.searches)} | ${r((x) => x.report.failedSearches)} | ${r((x) => x.report.staleAnswers)} / ${r((x) => x.report.deletedAnswers)} / ${r((x) => x.report.foreignAnswers)} | ${r((x) => x.report.duplicateAnswers)} | ${r((x) => x.report.ackedWrites)} | ${r((x) => x.report.jobsApplied)} / ${r((x) => x.report.jobsFailed)} / ${r((x) => x.report.jobViolations)} | ${r((x) => x.report.lostWrites)} | ${r((x) => x.report.resurrected)} | ${r((x) => x.report.nodeDivergence)} | ${r((x) => x.report.epochOrderViolations)} | ${r((x) => x.report.failovers)} | ${stats(runs.map((x) => x.report.timeToNewMasterMs))} | ${stats(runs.map((x) => x.report.timeToFirstGoodAnswerMs))} | ${stats(runs.map((x) => x.report.latencyMs.p99))} |`,
    );
  }
  return rows.join('\n');
}

const measured = (r: RunResult) =>
  r.measures
    ? Object.entries(r.measures)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : '–';

/** One line per scenario and measured duration: median / max over its runs. */
function measureLines(results: RunResult[]): string[] {
  const byKey = new Map<string, (number | null)[]>();
  for (const r of results)
    for (const [k, v] of Object.entries(r.measures ?? {})) {
      const key = `${r.scenario}: ${k}`;
      byKey.set(key, [...(byKey.get(key) ?? []), v]);
    }
  if (byKey.size === 0) return [];
  return [
    'Measured by the scenarios themselves, ms (median / max over the runs):',
    '',
    ...[...byKey].map(([k, v]) => `- ${k}: ${stats(v)}`),
    '',
  ];
}

export function chaosMarkdown(input: {
  command: string;
  machine: MachineInfo;
  date: Date;
  settings: Record<string, unknown>;
  results: RunResult[];
  wallMs: number;
}): string {
  const { machine, results } = input;
  const failedRuns = results.filter((r) => r.violations.length > 0);
  const skippedRuns = results.filter((r) => r.skipped);
  const lines = [
    '# Chaos suite results',
    '',
    'Written by `npm run chaos` (scripts/chaos/main.ts); the scenarios are in scripts/chaos/scenarios.ts and',
    'what each column means is in scripts/chaos/checker.ts. Each scenario runs under a steady search',
    'load and a concurrent ingest load (`wait: "applied"` writes with client-given ids through the edge).',
    '',
    `- command: \`${input.command}\``,
    `- date: ${input.date.toISOString()}`,
    `- machine: ${machine.nproc} CPU(s) (${machine.cpuModel}), ${machine.memoryGiB} GiB memory, Node ${machine.node}`,
    `- settings: ${Object.entries(input.settings)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(', ')}`,
    `- wall time: ${Math.round(input.wallMs / 1000)} s; ${results.length} run(s), ${failedRuns.length} with violations${skippedRuns.length ? `, ${skippedRuns.length} skipped` : ''}`,
    '',
    summaryTable(results),
    '',
    ...measureLines(results),
    'Failed searches count only requests made while some node was healthy (the all-down scenario has an',
    'expected outage; those failures are reported apart, below). "Lost acked writes" reads every',
    'written id back through the edge after the cluster healed; "node divergence" reads it on each node.',
    '',
    '## Runs',
    '',
    '| scenario | run | result | searches (failed / during outage / skipped) | writes acked / not | failovers (ids) | measured, ms | duration, s |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const runIndex = new Map<string, number>();
  for (const r of results) {
    const run = (runIndex.get(r.scenario) ?? 0) + 1;
    runIndex.set(r.scenario, run);
    const fo = r.failovers.filter((f) => f.kind !== 'election' || r.scenario === 'all-down-then-back');
    lines.push(
      `| ${r.scenario} | ${run} | ${r.skipped ? 'skipped' : r.violations.length === 0 ? 'pass' : 'FAIL'} | ${r.report.searches} (${r.report.failedSearches} / ${r.report.failedWhileNoneHealthy} / ${r.report.skippedSearches}) | ${r.report.ackedWrites} / ${r.report.unackedWrites} | ${fo.length ? fo.map((f) => `${f.id} ${f.outcome}`).join(', ') : '–'} | ${measured(r)} | ${Math.round(r.durationMs / 1000)} |`,
    );
  }
  if (skippedRuns.length > 0) {
    lines.push('', '## Skipped', '');
    for (const r of skippedRuns) lines.push(`- **${r.scenario}**: ${r.skipped}`);
  }
  if (failedRuns.length > 0) {
    lines.push('', '## Violations', '');
    for (const r of failedRuns) {
      lines.push(`- **${r.scenario}**: ${r.violations.join('; ')}`);
      for (const e of r.report.examples.slice(0, 8)) lines.push(`  - ${e}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
