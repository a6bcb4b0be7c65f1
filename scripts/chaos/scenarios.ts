/**
 * The chaos scenarios. Each one injects one kind of trouble into a running cluster while
 * the runner (./runner.ts) keeps a search load and an ingest load going, then undoes it; the
 * checker (./checker.ts) judges what the clients saw. A scenario says what cluster it needs and
 * whether a failover must, must not, or may happen.
 */
import type { Cluster } from '../cluster/launch.ts';
import type { FailoverExpectation } from './checker.ts';
import { GRAY_SCENARIOS } from './gray-scenarios.ts';
import type { RunReport, SearchRecord } from './records.ts';
import type { WaitLevel, WriteLoad } from './write-load.ts';
import { askOnce, type RedisTopologyKind } from '../cluster/redis-topology.ts';
import type { RedisServer } from '../cluster/redis-server.ts';
import {
  clusterStatus,
  injectFault,
  isRunning,
  kill9,
  nodeById,
  otherThan,
  sigcont,
  sigstop,
  sleep,
  until,
  waitNewMaster,
  waitStandby,
} from './cluster-ops.ts';

/** How long the edge may route by a table older than what its status shows (edge/routing-cache.ts). */
const ROUTING_TTL_MS = 1000;

export interface ScenarioContext {
  cluster: Cluster;
  /** The run's write load (a scenario may add a burst of its own beside the steady one). */
  writes: WriteLoad;
  /** Records an invariant the scenario saw broken while it ran (the run goes on). */
  violation(message: string): void;
  /** Master and epoch when the fault was injected. */
  before: { master: string; epoch: number };
  /** How long a fault that does not end by itself is held (overload, slow master, Redis down). */
  holdMs: number;
  /** Marks the start / end of a time with no healthy node (failed searches are expected there). */
  noneHealthyFrom(at?: number): void;
  noneHealthyUntil(at?: number): void;
  /** Marks when the fault was lifted (for checks over the fault's duration). */
  faultCleared(at?: number): void;
  /** Records a duration the scenario measured (e.g. Redis promotion), reported per run. */
  measure(name: string, ms: number): void;
  log(message: string): void;
}

export interface Scenario {
  name: string;
  description: string;
  nodes: number;
  privateRedis: boolean;
  /** Node data directories on tmpfs mounts of this size (a cluster of its own; see skipReason). */
  tmpfsDataMb?: number;
  /**
   * Every node reaches Redis through a TCP proxy of its own (scripts/cluster/tcp-proxy.ts), to cut
   * one off. A cluster of its own: the other scenarios see Redis as a client does, without it.
   */
  redisProxies?: boolean;
  /** Redis as a Sentinel or Cluster topology of its own (scripts/cluster/redis-topology.ts). */
  redisTopology?: Exclude<RedisTopologyKind, 'single'>;
  /** Wait levels of the steady write load, in turn (default: `applied`). */
  writeWaits?: WaitLevel[];
  failover: FailoverExpectation;
  /** Why this scenario cannot run on `cluster` (printed, and the run reported as skipped), or null. */
  skipReason?(cluster: Cluster): string | null;
  minFailovers?: number;
  /** Injects the fault and returns once it is in place. */
  inject(ctx: ScenarioContext): Promise<void>;
  /** Waits for the cluster's reaction, holds the fault if it needs holding, then undoes it. */
  recover(ctx: ScenarioContext): Promise<void>;
  /** Scenario-specific invariants over the records (empty = held). */
  extraChecks?(input: {
    searches: SearchRecord[];
    report: RunReport;
    before: { master: string };
    faultAt: number;
    clearedAt: number | null;
  }): string[];
}

/** What redis-failover's inject hands to its recover (one run at a time). */
const redisFailover: { killed: RedisServer | null; at: number } = { killed: null, at: 0 };

/** A probe: does a write through the edge answer 200 `applied` now? */
function writeWorks(cluster: Cluster): () => Promise<boolean> {
  return async () => {
    const res = await cluster.adminFetch('/api/v1/documents', {
      method: 'POST',
      json: { documents: [{ id: 'chaos-redis-probe', text: 'redis is back' }], wait: 'applied' },
      signal: AbortSignal.timeout(5000),
    });
    return res.status === 200;
  };
}

/**
 * When writes work again: a probe write starts every `everyMs` without waiting for the ones still
 * out (one stuck behind the outage must not hide a later one that succeeds); resolves with the
 * time the first one answered 200.
 */
async function writesResumeAt(cluster: Cluster, timeoutMs: number, everyMs = 200): Promise<number> {
  const probe = writeWorks(cluster);
  const deadline = Date.now() + timeoutMs;
  let resumedAt: number | null = null;
  const inFlight: Promise<void>[] = [];
  while (resumedAt === null && Date.now() < deadline) {
    inFlight.push(
      probe().then(
        (ok) => {
          if (ok) resumedAt ??= Date.now();
        },
        () => undefined,
      ),
    );
    await sleep(everyMs);
  }
  await Promise.all(inFlight);
  if (resumedAt === null) throw new Error(`writes did not work again within ${timeoutMs} ms`);
  return resumedAt;
}

/** Waits until the edge's status shows some node up; returns when (the routing TTL added by the caller). */
async function waitSomeNodeUp(cluster: Cluster, timeoutMs = 60_000): Promise<number> {
  await until(
    'the edge to see a node up',
    async () =>
      (await clusterStatus(cluster)).nodes.some((n) => n.state === 'up' || n.state === 'overloaded'),
    timeoutMs,
    100,
  );
  return Date.now();
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'kill9-master',
    description: 'kill -9 of the master; it restarts and rejoins as a standby',
    nodes: 2,
    privateRedis: true,
    failover: 'required',
    async inject({ cluster, before }) {
      await kill9(nodeById(cluster, before.master));
    },
    async recover({ cluster, before, log }) {
      const next = await waitNewMaster(cluster, before, 30_000);
      log(`new master ${next.master} at epoch ${next.epoch}`);
      await cluster.restartNode(before.master);
      await waitStandby(cluster, before.master, next.epoch);
    },
  },
  {
    name: 'sigstop-master',
    description: 'SIGSTOP of the master (alive but silent); SIGCONT after the failover, it must step down',
    nodes: 2,
    privateRedis: true,
    failover: 'required',
    async inject({ cluster, before }) {
      sigstop(nodeById(cluster, before.master));
    },
    async recover({ cluster, before, log }) {
      const next = await waitNewMaster(cluster, before, 30_000);
      log(`new master ${next.master} at epoch ${next.epoch}`);
      sigcont(nodeById(cluster, before.master));
      await waitStandby(cluster, before.master, next.epoch);
    },
  },
  {
    name: 'master-5xx',
    description: 'the master answers 503 to everything (fault injection fail_rate 1)',
    nodes: 2,
    privateRedis: true,
    failover: 'required',
    async inject({ cluster, before }) {
      await injectFault(nodeById(cluster, before.master), { fail_rate: 1 });
    },
    async recover({ cluster, before, log, faultCleared }) {
      const next = await waitNewMaster(cluster, before, 30_000);
      log(`new master ${next.master} at epoch ${next.epoch}`);
      await injectFault(nodeById(cluster, before.master), { clear: true });
      faultCleared();
      await waitStandby(cluster, before.master, next.epoch);
    },
  },
  {
    name: 'slow-master',
    description: 'every API call on the master takes 1 s more (its /health stays fast)',
    nodes: 2,
    privateRedis: true,
    failover: 'any',
    async inject({ cluster, before }) {
      await injectFault(nodeById(cluster, before.master), { latency_ms: 1000 });
    },
    async recover({ cluster, before, holdMs, faultCleared }) {
      await sleep(holdMs);
      await injectFault(nodeById(cluster, before.master), { clear: true });
      faultCleared();
    },
  },
  {
    name: 'overloaded-master',
    description: 'the master reports overloaded and answers slowly: reads shed to the standby, no failover',
    nodes: 2,
    privateRedis: true,
    failover: 'forbidden',
    async inject({ cluster, before }) {
      await injectFault(nodeById(cluster, before.master), { overload: true, latency_ms: 300 });
    },
    async recover({ cluster, before, holdMs, faultCleared }) {
      await sleep(holdMs);
      await injectFault(nodeById(cluster, before.master), { clear: true });
      faultCleared();
    },
    extraChecks({ searches, before, faultAt, clearedAt }) {
      // Give the coordinator two probe rounds and the edge its routing TTL to notice the overload.
      const from = faultAt + 2000;
      const during = searches.filter(
        (s) => s.ok && s.startedAt >= from && s.startedAt < (clearedAt ?? Infinity),
      );
      if (during.length === 0) return ['no search answered while the master was overloaded'];
      const onMaster = during.filter((s) => s.servedBy === before.master).length;
      return onMaster / during.length > 0.2
        ? [
            `${onMaster} of ${during.length} reads during the overload were still served by the overloaded master`,
          ]
        : [];
    },
  },
  {
    name: 'standby-restart',
    description: 'kill -9 of the standby and a restart: it replays the log and rejoins',
    nodes: 2,
    privateRedis: true,
    failover: 'forbidden',
    async inject({ cluster, before }) {
      await kill9(otherThan(cluster, before.master)[0]!);
    },
    async recover({ cluster, before }) {
      await sleep(1000);
      const standby = otherThan(cluster, before.master)[0]!;
      await cluster.restartNode(standby.id);
      await waitStandby(cluster, standby.id, before.epoch);
    },
  },
  {
    name: 'redis-restart',
    description: 'Redis killed (AOF kept) and restarted: writes fail meanwhile, searches do not',
    nodes: 2,
    privateRedis: true,
    failover: 'forbidden',
    async inject({ cluster }) {
      if (!cluster.redis)
        throw new Error('redis-restart needs a private redis-server (startCluster({privateRedis: true}))');
      await cluster.redis.kill();
    },
    async recover({ cluster, holdMs, faultCleared }) {
      await sleep(Math.min(holdMs, 3000));
      await cluster.redis!.restart();
      faultCleared();
      // Writes work again once the master's connections are back: a write through the edge answers.
      await until('writes to work again after the Redis restart', writeWorks(cluster), 30_000, 250);
    },
  },
  {
    name: 'redis-failover',
    description:
      'kill -9 of the Redis master (Sentinel) under load: the replica is promoted, writes resume, nothing acknowledged is lost; the old master rejoins as a replica',
    nodes: 2,
    privateRedis: false,
    redisTopology: 'sentinel',
    writeWaits: ['applied', 'replicated'],
    // The search nodes lose Redis all at once, so no node is worse off than another; a node
    // failover is not asked for, and not judged (epochs and writes are).
    failover: 'any',
    async inject({ cluster }) {
      const topology = cluster.redisTopology;
      if (topology?.kind !== 'sentinel') throw new Error('redis-failover needs a Sentinel topology');
      redisFailover.killed = await topology.currentMaster();
      redisFailover.at = Date.now();
      await redisFailover.killed.kill();
    },
    async recover({ cluster, measure, violation, faultCleared }) {
      const topology = cluster.redisTopology!;
      const { killed, at } = redisFailover;
      // Sentinel's view: a master other than the one killed.
      await until(
        'Sentinel to promote the Redis replica',
        async () => (await topology.currentMaster()) !== killed,
        30_000,
        50,
      );
      const promotedMs = Date.now() - at;
      measure('redis_promoted', promotedMs);
      const resumedMs = (await writesResumeAt(cluster, 30_000)) - at;
      measure('writes_resumed', resumedMs);
      if (resumedMs > promotedMs + 2000)
        violation(`writes resumed ${resumedMs - promotedMs} ms after the promotion (more than 2 s)`);
      // The old master comes back; Sentinel turns it into a replica of the new one.
      await killed!.restart();
      await until(
        'the old Redis master to rejoin as a synced replica',
        async () => {
          const info = await askOnce(killed!.port, (r) => r.info('replication'));
          return /role:slave/.test(info) && /master_link_status:up/.test(info);
        },
        60_000,
        200,
      );
      measure('old_master_replica', Date.now() - at);
      faultCleared();
    },
  },
  {
    name: 'two-failovers',
    description: 'kill -9 of the master, then of the new master: the third node takes over; both restart',
    nodes: 3,
    privateRedis: true,
    failover: 'required',
    minFailovers: 2,
    async inject({ cluster, before }) {
      await kill9(nodeById(cluster, before.master));
    },
    async recover({ cluster, before, log }) {
      const second = await waitNewMaster(cluster, before, 30_000);
      log(`new master ${second.master} at epoch ${second.epoch}`);
      await sleep(1000);
      await kill9(nodeById(cluster, second.master));
      const third = await waitNewMaster(cluster, second, 30_000);
      log(`new master ${third.master} at epoch ${third.epoch}`);
      await Promise.all([cluster.restartNode(before.master), cluster.restartNode(second.master)]);
      await Promise.all([
        waitStandby(cluster, before.master, third.epoch),
        waitStandby(cluster, second.master, third.epoch),
      ]);
    },
  },
  {
    name: 'all-down-then-back',
    description:
      'kill -9 of every node: searches answer 503, the edge stays up; the standby comes back first and becomes master, the old master rejoins as standby',
    nodes: 2,
    privateRedis: true,
    failover: 'required',
    async inject({ cluster, noneHealthyFrom }) {
      noneHealthyFrom();
      await Promise.all(cluster.nodes.filter(isRunning).map((n) => kill9(n)));
    },
    async recover({ cluster, before, noneHealthyUntil, holdMs, log }) {
      await sleep(Math.min(holdMs, 2000));
      const status = await clusterStatus(cluster);
      if (status.nodes.length === 0) throw new Error('the edge lost its node registry');
      const standby = otherThan(cluster, before.master)[0]!;
      await cluster.restartNode(standby.id);
      noneHealthyUntil((await waitSomeNodeUp(cluster)) + ROUTING_TTL_MS);
      const next = await waitNewMaster(cluster, before, 30_000);
      log(`new master ${next.master} at epoch ${next.epoch}`);
      await cluster.restartNode(before.master);
      await waitStandby(cluster, before.master, next.epoch);
    },
  },
  ...GRAY_SCENARIOS,
];

/** `scenario` on a Redis topology of its own instead of one redis-server. */
function onTopology(scenario: Scenario, topology: 'sentinel' | 'cluster'): Scenario {
  const where = topology === 'sentinel' ? 'Redis Sentinel' : 'Redis Cluster';
  return {
    ...scenario,
    name: `${scenario.name}-on-${topology === 'sentinel' ? 'sentinel' : 'redis-cluster'}`,
    description: `${scenario.description} (on ${where})`,
    privateRedis: false,
    redisTopology: topology,
  };
}

// The node failover itself, with every Redis client on Sentinel and on Cluster.
SCENARIOS.push(
  onTopology(scenarioByName('kill9-master'), 'sentinel'),
  onTopology(scenarioByName('kill9-master'), 'cluster'),
);

export function scenarioByName(name: string): Scenario {
  const found = SCENARIOS.find((s) => s.name === name);
  if (!found)
    throw new Error(`unknown scenario "${name}"; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return found;
}
