/**
 * What a chaos scenario or a full-stack test does to a running local cluster
 * (scripts/cluster/launch.ts): read the coordinator's status, watch the master change, inject faults
 * (kill -9, SIGSTOP, fault injection on a node started with FAULT_INJECTION=1), wait for the
 * cluster to be whole again, and read back what it holds (documents, the change log's epochs).
 */
import {
  connectRedis,
  type RedisClient,
  type RedisTarget,
  redisTargetFromEnv,
} from '../../worker-node/redis-connection.ts';
import type { ClusterStatus, FailoverReport, FailoverSummary } from '../../shared/edge-api.ts';
import type { NodeHealth } from '../../shared/schemas.ts';
import type { Cluster } from '../cluster/launch.ts';
import { sleep, waitFor as until } from '../cluster/wait.ts';
import type { NodeProcess } from '../cluster/node-process.ts';
import type { FinalRead, MasterSample, SearchHitRecord } from './records.ts';

export async function clusterStatus(cluster: Cluster): Promise<ClusterStatus> {
  const res = await fetch(`${cluster.state.edge_url}/api/v1/status`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`GET /api/v1/status answered ${res.status}`);
  return (await res.json()) as ClusterStatus;
}

export function nodeById(cluster: Cluster, id: string): NodeProcess {
  const node = cluster.nodes.find((n) => n.id === id);
  if (!node) throw new Error(`no node ${id} in this cluster`);
  return node;
}

export const otherThan = (cluster: Cluster, id: string) => cluster.nodes.filter((n) => n.id !== id);

export function isRunning(node: NodeProcess): boolean {
  return node.child.exitCode === null && node.child.signalCode === null;
}

/** The coordinator's view of the master, sampled every `everyMs` until stopped. */
export function watchMasters(
  cluster: Cluster,
  everyMs = 100,
): { samples: MasterSample[]; stop(): MasterSample[] } {
  const samples: MasterSample[] = [];
  let running = true;
  void (async () => {
    while (running) {
      const at = Date.now();
      try {
        const s = await clusterStatus(cluster);
        samples.push({ at, master: s.current_master, epoch: s.epoch });
      } catch {
        /* the edge answers status even with every node down; a miss here is just a gap */
      }
      await sleep(everyMs);
    }
  })();
  return {
    samples,
    stop() {
      running = false;
      return samples;
    },
  };
}

/** Master and epoch right now, with the master's state. */
export async function currentMaster(cluster: Cluster): Promise<{ master: string; epoch: number }> {
  const s = await until('the coordinator to name a master', async () => {
    const status = await clusterStatus(cluster);
    return status.current_master ? status : null;
  });
  return { master: s.current_master!, epoch: s.epoch };
}

/** Waits for a master other than `old` at an epoch above `epoch`, and no failover in progress. */
export async function waitNewMaster(
  cluster: Cluster,
  old: { master: string | null; epoch: number },
  timeoutMs = 30_000,
): Promise<{ master: string; epoch: number; at: number }> {
  const s = await until(
    `a new master (was ${old.master} at epoch ${old.epoch})`,
    async () => {
      const status = await clusterStatus(cluster);
      return status.current_master &&
        status.current_master !== old.master &&
        status.epoch > old.epoch &&
        !status.failover_in_progress
        ? status
        : null;
    },
    timeoutMs,
  );
  return { master: s.current_master!, epoch: s.epoch, at: Date.now() };
}

/** Failovers (any kind) that started at or after `since`, oldest first. */
export async function failoversSince(cluster: Cluster, since: number): Promise<FailoverSummary[]> {
  const res = await cluster.adminFetch('/api/v1/failovers?limit=50');
  const body = (await res.json()) as { failovers: FailoverSummary[] };
  return body.failovers.filter((f) => f.started_at >= since).sort((a, b) => a.started_at - b.started_at);
}

export async function failoverReport(cluster: Cluster, id: string): Promise<FailoverReport> {
  const res = await cluster.adminFetch(`/api/v1/failovers/${encodeURIComponent(id)}`);
  if (res.status !== 200) throw new Error(`GET /api/v1/failovers/${id} answered ${res.status}`);
  return (await res.json()) as FailoverReport;
}

export type FaultSettings = {
  latency_ms?: number;
  fail_rate?: number;
  fail_paths?: string[];
  overload?: boolean;
  hang?: boolean;
  clear?: boolean;
  /** Kill that supervised worker thread once (its supervisor restarts it). */
  crash_worker?: 'embedder' | 'index';
};

/** Signed POST /api/v1/faults (the node must run with FAULT_INJECTION=1). */
export async function injectFault(node: NodeProcess, settings: FaultSettings): Promise<void> {
  const res = await node.client.signed('POST', '/api/v1/faults', settings, { timeoutMs: 5000 });
  if (res.status !== 200)
    throw new Error(
      `fault injection on ${node.id} answered ${res.status}: ${JSON.stringify(res.body)} (start the cluster with nodeEnv {FAULT_INJECTION: '1'})`,
    );
}

export function kill9(node: NodeProcess): Promise<number | null> {
  node.child.kill('SIGKILL');
  return node.exited;
}

export function sigstop(node: NodeProcess): void {
  node.child.kill('SIGSTOP');
}

export function sigcont(node: NodeProcess): void {
  node.child.kill('SIGCONT');
}

/** Waits until node `id` says, on its own /health, that it is a standby at `epoch` or later. */
export async function waitStandby(
  cluster: Cluster,
  id: string,
  epoch: number,
  timeoutMs = 30_000,
): Promise<void> {
  await until(
    `${id} to rejoin as a standby (epoch ≥ ${epoch})`,
    async () => {
      const h = await nodeById(cluster, id).client.health();
      return h.status === 200 && h.body.role === 'standby' && h.body.epoch >= epoch;
    },
    timeoutMs,
    200,
  );
}

async function health(node: NodeProcess): Promise<NodeHealth | null> {
  try {
    const h = await node.client.health();
    return h.status === 200 ? h.body : null;
  } catch {
    return null;
  }
}

/**
 * The cluster made whole: every node running (restarted if it was killed), resumed and free of
 * injected faults; the edge sees a master and every node up; every node at the master's epoch in
 * the right role, and caught up with the log.
 */
export async function heal(
  cluster: Cluster,
  opts: { faults?: boolean; timeoutMs?: number } = {},
): Promise<void> {
  for (const node of [...cluster.nodes]) {
    if (!isRunning(node)) await cluster.restartNode(node.id);
    else sigcont(node);
  }
  if (opts.faults !== false)
    await Promise.all(cluster.nodes.map((n) => injectFault(n, { clear: true }).catch(() => undefined)));
  await waitConverged(cluster, opts.timeoutMs ?? 45_000);
}

/** Every node up in the edge's view with the right role at the current epoch, and caught up. */
export async function waitConverged(cluster: Cluster, timeoutMs = 45_000): Promise<void> {
  await until(
    'the cluster to converge (a master, every node up at the current epoch, standbys caught up)',
    async () => {
      const status = await clusterStatus(cluster);
      if (!status.current_master || status.failover_in_progress) return false;
      if (status.nodes.some((n) => n.state !== 'up')) return false;
      const healths = await Promise.all(cluster.nodes.map(health));
      if (healths.some((h) => !h?.ready || h.epoch !== status.epoch)) return false;
      const master = healths.find((h) => h!.node === status.current_master);
      if (master?.role !== 'master') return false;
      if (healths.some((h) => h!.node !== master.node && h!.role !== 'standby')) return false;
      return healths.every((h) => h!.index.applied_seq === master.index.applied_seq);
    },
    timeoutMs,
    200,
  );
}

/** GET each id through the edge (token) and, when `direct`, on every node (signed). */
export async function readBack(
  cluster: Cluster,
  ids: readonly string[],
  direct = true,
): Promise<FinalRead[]> {
  const reads: FinalRead[] = [];
  const one = async (id: string) => {
    try {
      const res = await cluster.adminFetch(`/api/v1/documents/${encodeURIComponent(id)}`, {
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json()) as { text?: string };
      reads.push({ id, node: null, status: res.status, text: body.text ?? null });
    } catch {
      reads.push({ id, node: null, status: null, text: null });
    }
    if (!direct) return;
    for (const node of cluster.nodes) {
      try {
        const res = await node.client.signed<{ text?: string }>(
          'GET',
          `/api/v1/documents/${encodeURIComponent(id)}`,
          undefined,
          { timeoutMs: 10_000 },
        );
        reads.push({ id, node: node.id, status: res.status, text: res.body?.text ?? null });
      } catch {
        reads.push({ id, node: node.id, status: null, text: null });
      }
    }
  };
  // A few at a time: thousands of reads at once would only measure the loopback.
  for (let i = 0; i < ids.length; i += 16) await Promise.all(ids.slice(i, i + 16).map(one));
  return reads;
}

/** Searches every node directly for each query (the texts of deleted documents). */
export async function searchEveryNode(
  cluster: Cluster,
  queries: readonly string[],
  topK = 20,
): Promise<{ node: string; query: string; results: SearchHitRecord[] }[]> {
  const out: { node: string; query: string; results: SearchHitRecord[] }[] = [];
  for (const query of queries) {
    for (const node of cluster.nodes) {
      const res = await node.client.search(query, topK);
      if (res.status === 200)
        out.push({
          node: node.id,
          query,
          results: res.body.results.map((r) => ({ id: r.id, text: r.text ?? '' })),
        });
    }
  }
  return out;
}

/** A client of the cluster's Redis, whatever its topology (the caller disconnects it). */
export function clusterRedis(cluster: Cluster): RedisClient {
  const env = cluster.state.redis_env;
  const target: RedisTarget = env
    ? redisTargetFromEnv(env)
    : { kind: 'single', url: cluster.state.redis_url };
  const redis = connectRedis(target, { maxRetriesPerRequest: 2 });
  redis.on('error', () => undefined);
  return redis;
}

/** The epoch of every entry of the change log, in stream order. */
export async function logEpochs(cluster: Cluster): Promise<number[]> {
  const redis = clusterRedis(cluster);
  try {
    const epochs: number[] = [];
    let start = '-';
    for (;;) {
      const page = await redis.xrange(`${cluster.state.redis_prefix}:log`, start, '+', 'COUNT', 1000);
      for (const [, fields] of page) {
        const i = fields.indexOf('epoch');
        epochs.push(i >= 0 ? Number(fields[i + 1]) : Number.NaN);
      }
      if (page.length < 1000) return epochs;
      start = `(${page.at(-1)![0]}`;
    }
  } finally {
    redis.disconnect();
  }
}

export { sleep, until };
