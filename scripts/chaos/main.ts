/**
 * `npm run chaos -- [--runs N] [--scenario NAME[,NAME...]] [--search-rate R] [--write-rate R]
 *                   [--hold-ms MS] [--out FILE] [--no-write-file]`
 *
 * Runs each chaos scenario (scripts/chaos/scenarios.ts) N times against a local cluster (real
 * workerd edge, real search-node processes, a private redis-server), under a steady search load
 * and a concurrent ingest load, checks every run (scripts/chaos/checker.ts), prints one line per
 * run, and writes the summary table to CHAOS.md. Exits 1 when any run broke an invariant.
 *
 * Scenarios that need the same cluster shape share one cluster; a scenario leaves it whole (every
 * node restarted, faults cleared, standbys caught up) for the next. A cluster that cannot be
 * healed is replaced.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster, type Cluster } from '../cluster/launch.ts';
import { ROOT } from '../cluster/node-process.ts';
import { heal } from './cluster-ops.ts';
import { chaosMarkdown, machineInfo } from './report.ts';
import {
  CHAOS_EDGE_VARS,
  chaosClusterOptions,
  clusterShape,
  emptyReport,
  runScenario,
  type RunOptions,
  type RunResult,
} from './runner.ts';
import { SCENARIOS, scenarioByName, type Scenario } from './scenarios.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    scenario: { type: 'string', multiple: true },
    'search-rate': { type: 'string', default: '40' },
    'write-rate': { type: 'string', default: '5' },
    'hold-ms': { type: 'string', default: '5000' },
    out: { type: 'string', default: join(ROOT, 'CHAOS.md') },
    'no-write-file': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    `usage: npm run chaos -- [--runs N] [--scenario NAME] [--search-rate R] [--write-rate R] [--hold-ms MS] [--out FILE]\nscenarios: ${SCENARIOS.map((s) => s.name).join(', ')}\n`,
  );
  process.exit(0);
}

const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
  process.stderr.write(`--runs must be an integer from 1 to 100 (got ${values.runs})\n`);
  process.exit(2);
}
let scenarios: Scenario[];
try {
  scenarios = values.scenario
    ? values.scenario.flatMap((s) => s.split(',')).map((s) => scenarioByName(s.trim()))
    : SCENARIOS;
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
const options: RunOptions = {
  searchRate: Number(values['search-rate']),
  writeRate: Number(values['write-rate']),
  holdMs: Number(values['hold-ms']),
  log: (m) => process.stderr.write(`  ${m}\n`),
};

const shapes = [...new Set(scenarios.map(clusterShape))];
const started = Date.now();
const results: RunResult[] = [];

async function newCluster(s: Scenario): Promise<Cluster> {
  process.stderr.write(`starting a cluster: ${clusterShape(s)}\n`);
  return startCluster(chaosClusterOptions(s, (m) => process.stderr.write(`  ${m}\n`)));
}

for (const shape of shapes) {
  const group = scenarios.filter((s) => clusterShape(s) === shape);
  let cluster = await newCluster(group[0]!);
  try {
    for (let run = 1; run <= runs; run++) {
      for (const scenario of group) {
        const result = await runScenario(cluster, scenario, options).catch((err: Error) => {
          const failed: RunResult = {
            scenario: scenario.name,
            report: emptyReport(),
            violations: [`run aborted: ${err.message}`],
            failovers: [],
            error: err.message,
            durationMs: 0,
          };
          return failed;
        });
        results.push(result);
        if (result.skipped) {
          process.stdout.write(`SKIP ${scenario.name} run ${run}: ${result.skipped}\n`);
          continue;
        }
        const r = result.report;
        process.stdout.write(
          `${result.violations.length === 0 ? 'pass' : 'FAIL'} ${scenario.name} run ${run}: ${r.searches} searches, ${r.failedSearches} failed, ${r.ackedWrites} acked writes, ${r.lostWrites} lost, ${r.jobsApplied + r.jobsFailed + r.jobViolations} answered 202 (${r.jobsFailed} failed, ${r.jobViolations} unresolved), ${r.foreignAnswers} foreign answers, ` +
            `${r.failovers} failover(s), new master after ${r.timeToNewMasterMs ?? '–'} ms, first good answer after ${r.timeToFirstGoodAnswerMs ?? '–'} ms` +
            `${result.violations.length ? `\n     ${result.violations.join('\n     ')}` : ''}\n`,
        );
        if (result.error) {
          // The scenario broke off half-way: make sure the cluster is whole, or start a fresh one.
          const healed = await heal(cluster).then(
            () => true,
            () => false,
          );
          if (!healed) {
            await cluster.stop();
            cluster = await newCluster(scenario);
          }
        }
      }
    }
  } finally {
    await cluster.stop();
  }
}

const markdown = chaosMarkdown({
  command: `npm run chaos -- ${process.argv.slice(2).join(' ')}`.trim(),
  machine: machineInfo(),
  date: new Date(),
  settings: {
    ...CHAOS_EDGE_VARS,
    search_rate: options.searchRate,
    write_rate: options.writeRate,
    hold_ms: options.holdMs,
  },
  results,
  wallMs: Date.now() - started,
});
if (!values['no-write-file']) {
  writeFileSync(values.out!, markdown);
  process.stdout.write(`summary written to ${values.out}\n`);
} else process.stdout.write(markdown);
process.exit(results.every((r) => r.violations.length === 0) ? 0 : 1);
