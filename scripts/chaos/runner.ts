/**
 * Runs one chaos scenario once against a running cluster:
 *   heal → loads on (search + ingest) → baseline → inject → recover → after-phase → loads off →
 *   heal → read back every written id (edge and each node), search each node for deleted
 *   documents, read the change log's epochs → checker report and invariant violations → delete
 *   what the run wrote, so the next run on the same cluster starts from the same corpus.
 * Used by `npm run chaos` (scripts/chaos/main.ts) and by test/fullstack/chaos.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FailoverSummary } from '../../shared/edge-api.ts';
import { startSearchLoad } from './load.ts';
import { startWriteLoad } from './write-load.ts';
import type { Cluster, ClusterOptions } from '../cluster/launch.ts';
import { ROOT } from '../cluster/node-process.ts';
import { checkRun, violations } from './checker.ts';
import { pollJobs } from './jobs.ts';
import type { RunReport, SearchRecord } from './records.ts';
import {
  currentMaster,
  failoversSince,
  heal,
  logEpochs,
  readBack,
  searchEveryNode,
  sleep,
  watchMasters,
} from './cluster-ops.ts';
import type { Scenario, ScenarioContext } from './scenarios.ts';

/**
 * Edge settings for chaos clusters: fast failure detection (probe every 500 ms, 3 strikes) with a
 * probe timeout that stays generous, so that a busy 2-core machine does not depose a healthy master.
 */
export const CHAOS_EDGE_VARS = {
  PROBE_INTERVAL_MS: '500',
  PROBE_TIMEOUT_MS: '1500',
  FAIL_THRESHOLD: '3',
  ACTIVATE_VERIFY_MS: '5000',
};

/** Scenarios with the same shape share one cluster (`npm run chaos`, test/fullstack/chaos.test.ts). */
export const clusterShape = (s: Scenario) =>
  `${s.nodes} nodes${s.privateRedis ? ', a private redis-server' : ''}${s.redisProxies ? ', a Redis proxy per node' : ''}${s.redisTopology ? `, Redis ${s.redisTopology === 'sentinel' ? 'master + replica + 3 Sentinels' : 'Cluster'}` : ''}${s.tmpfsDataMb ? `, ${s.tmpfsDataMb} MiB tmpfs data directories` : ''}`;

/**
 * The cluster a scenario runs on: fault injection on; each node behind its own Redis proxy
 * (redis-cut-master) or on a tmpfs data directory (disk-full-master) when the scenario asks.
 */
export function chaosClusterOptions(s: Scenario, onProgress?: (m: string) => void): ClusterOptions {
  return {
    nodes: s.nodes,
    privateRedis: s.privateRedis,
    edgeVars: CHAOS_EDGE_VARS,
    nodeEnv: { FAULT_INJECTION: '1' },
    ...(s.redisProxies ? { redisProxies: true } : {}),
    ...(s.redisTopology ? { redisTopology: s.redisTopology } : {}),
    ...(s.tmpfsDataMb ? { tmpfsDataMb: s.tmpfsDataMb } : {}),
    ...(onProgress ? { onProgress } : {}),
  };
}

export interface RunOptions {
  searchRate?: number;
  writeRate?: number;
  /** Load before the fault. */
  baselineMs?: number;
  /** Load after the scenario recovered. */
  afterMs?: number;
  /** How long faults that do not end by themselves are held. */
  holdMs?: number;
  readGraceMs?: number;
  /**
   * Delete what the run wrote once it is judged (default true): later runs on the same cluster
   * then start from the same corpus. A single round (test/fullstack/chaos.test.ts) can skip it.
   */
  cleanUp?: boolean;
  log?: (message: string) => void;
}

export interface RunResult {
  scenario: string;
  report: RunReport;
  violations: string[];
  failovers: FailoverSummary[];
  /** Set when the scenario itself could not be carried out (a wait timed out...). */
  error: string | null;
  /** Set when the scenario did not run at all, and why (the cluster lacks what it needs). */
  skipped?: string;
  /** Durations the scenario measured (ScenarioContext.measure), in ms. */
  measures?: Record<string, number>;
  durationMs: number;
}

export interface ChaosCorpus {
  /** Document texts of corpus/documents.jsonl (what written documents are made from). */
  texts: string[];
  /** The labelled queries of corpus/queries.json. */
  queries: string[];
}

let corpus: ChaosCorpus | null = null;
export function loadCorpus(): ChaosCorpus {
  corpus ??= {
    texts: readFileSync(join(ROOT, 'corpus', 'documents.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => (JSON.parse(l) as { text: string }).text),
    queries: (
      JSON.parse(readFileSync(join(ROOT, 'corpus', 'queries.json'), 'utf8')) as { query: string }[]
    ).map((q) => q.query),
  };
  return corpus;
}

export async function runScenario(
  cluster: Cluster,
  scenario: Scenario,
  options: RunOptions = {},
): Promise<RunResult> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const { texts, queries } = loadCorpus();
  if (cluster.nodes.length < scenario.nodes)
    throw new Error(
      `${scenario.name} needs ${scenario.nodes} nodes, the cluster has ${cluster.nodes.length}`,
    );
  if (scenario.privateRedis && !cluster.redis)
    throw new Error(`${scenario.name} needs a private redis-server`);
  if (scenario.redisTopology && cluster.redisTopology?.kind !== scenario.redisTopology)
    throw new Error(`${scenario.name} needs a Redis ${scenario.redisTopology} topology of its own`);
  const skipped = scenario.skipReason?.(cluster);
  if (skipped) {
    log(`${scenario.name}: SKIPPED: ${skipped}`);
    return {
      scenario: scenario.name,
      report: emptyReport(),
      violations: [],
      failovers: [],
      error: null,
      skipped,
      durationMs: 0,
    };
  }

  await heal(cluster);
  const before = await currentMaster(cluster);
  const tag = `${scenario.name}-${randomBytes(3).toString('hex')}`;
  const noHealthyNode: [number, number][] = [];
  let openOutage: number | null = null;
  let clearedAt: number | null = null;
  let faultAt = 0;

  const watch = watchMasters(cluster);
  const writes = startWriteLoad({
    edgeUrl: cluster.state.edge_url,
    adminToken: cluster.state.admin_token,
    tag,
    baseTexts: shuffle(texts, tag),
    ratePerSec: options.writeRate ?? 5,
    maxDurationMs: 300_000,
    ...(scenario.writeWaits ? { waits: scenario.writeWaits } : {}),
  });
  let n = 0;
  const search = startSearchLoad({
    edgeUrl: cluster.state.edge_url,
    apiKey: cluster.state.api_key,
    ratePerSec: options.searchRate ?? 40,
    maxDurationMs: 300_000,
    // One in four searches looks for a document this run wrote (or deleted); the rest are corpus queries.
    nextQuery: () => {
      const i = n++;
      const probe = i % 4 === 0 ? writes.probeQuery() : null;
      return probe ? { query: probe, topK: 10 } : { query: queries[i % queries.length]!, topK: 5 };
    },
  });

  const observed: string[] = [];
  const measures: Record<string, number> = {};
  const ctx: ScenarioContext = {
    cluster,
    writes,
    violation: (m) => {
      log(`${scenario.name}: VIOLATION: ${m}`);
      observed.push(m);
    },
    before,
    holdMs: options.holdMs ?? 5000,
    noneHealthyFrom: (at = Date.now()) => {
      openOutage = at;
    },
    noneHealthyUntil: (at = Date.now()) => {
      noHealthyNode.push([openOutage ?? faultAt, at]);
      openOutage = null;
    },
    faultCleared: (at = Date.now()) => {
      clearedAt = at;
    },
    measure: (name, ms) => {
      measures[name] = Math.round(ms);
      log(`${scenario.name}: ${name} ${Math.round(ms)} ms`);
    },
    log: (m) => log(`${scenario.name}: ${m}`),
  };

  let error: string | null = null;
  let searches: SearchRecord[] = [];
  try {
    await sleep(options.baselineMs ?? 2000);
    faultAt = Date.now();
    log(`${scenario.name}: inject (master ${before.master}, epoch ${before.epoch})`);
    await scenario.inject(ctx);
    await scenario.recover(ctx);
    log(`${scenario.name}: recovered after ${Date.now() - faultAt} ms`);
    await sleep(options.afterMs ?? 2000);
  } catch (err) {
    error = (err as Error).message;
    log(`${scenario.name}: ${error}`);
  } finally {
    if (openOutage !== null) noHealthyNode.push([openOutage, Date.now()]);
    searches = await search.stop();
    await writes.stop();
    watch.stop();
  }

  // Whole again before reading back: killed nodes restarted, faults cleared, standbys caught up.
  await heal(cluster);
  const ids = [...new Set(writes.records.map((w) => w.id))];
  const finalReads = await readBack(cluster, ids);
  const deletedBases = [
    ...new Set(
      writes
        .tracked()
        .filter((d) => d.deleted)
        .map((d) => d.base),
    ),
  ];
  const finalNodeSearches = await searchEveryNode(cluster, deletedBases);
  const report = checkRun(
    {
      searches,
      skippedSearches: search.skipped,
      writes: writes.records,
      finalReads,
      finalNodeSearches,
      jobs: await pollJobs(cluster, writes.records),
      logEpochs: await logEpochs(cluster),
      masters: watch.samples,
      faultAt,
      before,
      noHealthyNode,
    },
    { readGraceMs: options.readGraceMs ?? 500 },
  );
  const found = violations(report, {
    failover: scenario.failover,
    ...(scenario.minFailovers ? { minFailovers: scenario.minFailovers } : {}),
  });
  if (scenario.extraChecks)
    found.push(...scenario.extraChecks({ searches, report, before, faultAt, clearedAt }));
  found.push(...observed);
  if (error) found.unshift(`scenario did not complete: ${error}`);
  const failovers = await failoversSince(cluster, faultAt || started);
  // Judged: now leave the corpus as the run found it. Runs share a cluster, and ten rounds of
  // every scenario would otherwise grow it thirtyfold (each search then ranks thirty times the
  // keyword matches), so later runs would measure the corpus's growth, not the fault.
  if (options.cleanUp !== false) {
    const present = finalReads.filter((r) => r.node === null && r.status === 200).map((r) => r.id);
    const removed = await deleteAll(cluster, present);
    if (removed.failed > 0)
      log(`${scenario.name}: clean-up could not delete ${removed.failed} of ${present.length} documents`);
  }
  return {
    scenario: scenario.name,
    report,
    violations: found,
    failovers,
    error,
    durationMs: Date.now() - started,
    ...(Object.keys(measures).length > 0 ? { measures } : {}),
  };
}

/** Deletes `ids` through the edge (`wait: "applied"`), a few at a time; best effort. */
async function deleteAll(cluster: Cluster, ids: readonly string[]): Promise<{ failed: number }> {
  let failed = 0;
  const one = async (id: string) => {
    try {
      const res = await cluster.adminFetch(`/api/v1/documents/${encodeURIComponent(id)}?wait=applied`, {
        method: 'DELETE',
        signal: AbortSignal.timeout(30_000),
      });
      await res.body?.cancel();
      if (res.status !== 200 && res.status !== 404) failed++;
    } catch {
      failed++;
    }
  };
  for (let i = 0; i < ids.length; i += 8) await Promise.all(ids.slice(i, i + 8).map(one));
  return { failed };
}

/** A report of nothing, for a run that was skipped or broke off before it recorded anything. */
export function emptyReport(): RunResult['report'] {
  return {
    searches: 0,
    skippedSearches: 0,
    failedSearches: 0,
    failedWhileNoneHealthy: 0,
    staleAnswers: 0,
    deletedAnswers: 0,
    duplicateAnswers: 0,
    foreignAnswers: 0,
    ackedWrites: 0,
    unackedWrites: 0,
    jobsApplied: 0,
    jobsFailed: 0,
    jobViolations: 0,
    lostWrites: 0,
    resurrected: 0,
    unverified: 0,
    nodeDivergence: 0,
    epochOrderViolations: 0,
    logEntries: 0,
    failovers: 0,
    timeToNewMasterMs: null,
    timeToFirstGoodAnswerMs: null,
    latencyMs: { p50: null, p99: null, max: null },
    servedBy: {},
    examples: [],
  };
}

/** A stable shuffle keyed on `seed`, so each run writes documents made from different texts. */
function shuffle<T>(items: readonly T[], seed: string): T[] {
  let h = 2166136261;
  for (const ch of seed) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0;
    const j = h % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
