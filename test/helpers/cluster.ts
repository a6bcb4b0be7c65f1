/**
 * A cluster of real search-node processes for the integration tests: one private redis-server
 * (or the caller's), a unique REDIS_PREFIX, N nodes on temporary data directories, the first
 * activated as master at epoch 1 and the rest told to follow it as standbys.
 *
 *   const cluster = await startNodeCluster({ nodes: 2 });
 *   const a = cluster.node('a');                  // NodeProcess: .client, .child.pid, .stop()
 *   await cluster.restartNode('b');               // same id, same DATA_DIR
 *   afterAll(() => cluster?.stop());              // every node and the redis-server, even on failure
 *
 * The control calls are made here exactly as the coordinator makes them (signed, with epochs),
 * so the tests exercise the nodes' real API. No edge: the whole local cluster (with the edge in
 * workerd) is startCluster in scripts/cluster/launch.ts; both start their parts with the same
 * launchers (scripts/cluster/node-process.ts, redis-server.ts).
 */
import { waitFor } from '../../scripts/cluster/wait.ts';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, type NodeProcess } from '../../scripts/cluster/node-process.ts';
import { startRedisServer, type RedisServer } from '../../scripts/cluster/redis-server.ts';
import type { NodeHealth } from '../../shared/schemas.ts';
import { chunks, type CorpusDoc } from '../../scripts/corpus/sample.ts';
import { uniquePrefix } from './redis.ts';
import { type RedisTarget, redisKeyPrefix } from '../../worker-node/redis-connection.ts';

export const TEST_SECRET = 'integration-test-cluster-secret-0123456789';

/**
 * Per-test timeout for tests that drive real node processes. Generous on purpose: on a loaded
 * 2-core machine one node start alone can take tens of seconds. It bounds a hang; it is not a
 * performance assertion (the tests assert outcomes, never durations).
 */
export const NODE_TEST_TIMEOUT_MS = 240_000;

export interface TestCluster {
  redis: RedisServer;
  prefix: string;
  secret: string;
  /** Temporary folder holding each node's DATA_DIR (`<dir>/<id>`) and log (`<dir>/<id>/<id>.log`). */
  dir: string;
  epoch: number;
  masterId: string | null;
  node(id: string): NodeProcess;
  /** Ids of the nodes running now. */
  ids(): string[];
  /** Starts a node (again) on its own data directory. */
  startNode(id: string, env?: Record<string, string>): Promise<NodeProcess>;
  /** SIGTERM (graceful, snapshot) then start again on the same DATA_DIR. */
  restartNode(id: string, env?: Record<string, string>): Promise<NodeProcess>;
  /** Stops every node and, when the cluster started it, the redis-server; removes the data. */
  stop(): Promise<void>;
}

export interface NodeClusterOptions {
  /** Node ids, or a count (ids a, b, c, ...). Default 1. */
  nodes?: number | string[];
  /** Use this redis-server instead of starting one (the caller stops it). */
  redis?: RedisServer;
  /** Reach Redis as this topology (a Sentinel or Cluster the caller started) instead of `redis.url`. */
  redisTarget?: RedisTarget;
  prefix?: string;
  /** Extra environment for every node. */
  env?: Record<string, string>;
  /** Activate the first node at epoch 1 and make the others its standbys. Default true. */
  activate?: boolean;
}

export async function startNodeCluster(opts: NodeClusterOptions = {}): Promise<TestCluster> {
  const ids =
    typeof opts.nodes === 'object'
      ? opts.nodes
      : Array.from({ length: opts.nodes ?? 1 }, (_, i) => String.fromCharCode(97 + i));
  const ownRedis = !opts.redis;
  const redis = opts.redis ?? (await startRedisServer());
  const dir = mkdtempSync(join(tmpdir(), 'gte-it-'));
  const running = new Map<string, NodeProcess>();
  const cluster: TestCluster = {
    redis,
    prefix: redisKeyPrefix(opts.prefix ?? uniquePrefix('it')),
    secret: TEST_SECRET,
    dir,
    epoch: 0,
    masterId: null,
    node(id) {
      const n = running.get(id);
      if (!n) throw new Error(`no running node ${id} in this cluster`);
      return n;
    },
    ids: () => [...running.keys()],
    async startNode(id, env) {
      const dataDir = join(dir, id);
      try {
        const proc = await startNode({
          id,
          dataDir,
          redis: opts.redisTarget ?? redis.url,
          redisPrefix: cluster.prefix,
          secret: TEST_SECRET,
          env: { LOG_LEVEL: 'info', ...opts.env, ...env },
        });
        running.set(id, proc);
        return proc;
      } catch (err) {
        // The data directory (and the log in it) is removed by stop(): say what the node said.
        throw new Error(
          `${(err as Error).message}\n--- end of ${id}.log ---\n${logTail(join(dataDir, `${id}.log`))}`,
        );
      }
    },
    async restartNode(id, env) {
      await running.get(id)?.stop();
      return cluster.startNode(id, env);
    },
    async stop() {
      await Promise.allSettled([...running.values()].map((n) => n.stop(5000)));
      running.clear();
      if (ownRedis) await redis.stop().catch(() => undefined);
      if (process.env.GTE_KEEP_TEST_DATA !== '1') rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(ids.map((id) => cluster.startNode(id)));
    if (opts.activate !== false && ids.length > 0) await electMaster(cluster, ids[0]!, 1);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

function logTail(path: string, chars = 3000): string {
  return existsSync(path) ? readFileSync(path, 'utf8').slice(-chars) : '(no log)';
}

/** Activates `masterId` at `epoch` and makes every other running node its standby. */
export async function electMaster(cluster: TestCluster, masterId: string, epoch: number): Promise<void> {
  const res = await cluster.node(masterId).client.activate(epoch);
  if (res.status !== 200)
    throw new Error(`activate ${masterId} at epoch ${epoch}: ${res.status} ${JSON.stringify(res.body)}`);
  cluster.epoch = epoch;
  cluster.masterId = masterId;
  for (const id of cluster.ids()) {
    if (id === masterId) continue;
    const s = await cluster.node(id).client.standby(epoch, masterId);
    if (s.status !== 200)
      throw new Error(`standby ${id} at epoch ${epoch}: ${s.status} ${JSON.stringify(s.body)}`);
  }
}

/** Upserts `docs` on `master` in requests of `batch`, one after another; throws on any non-2xx. */
export async function ingest(
  master: NodeProcess,
  docs: readonly CorpusDoc[],
  epoch: number,
  wait: 'none' | 'applied' | 'replicated' = 'applied',
  batch = 256,
): Promise<void> {
  for (const part of chunks(docs, batch)) {
    const res = await master.client.upsert(part, epoch, wait);
    if (res.status !== 200 && res.status !== 202)
      throw new Error(
        `upsert of ${part.length} docs on ${master.id}: ${res.status} ${JSON.stringify(res.body)}`,
      );
  }
}

export async function health(node: NodeProcess): Promise<NodeHealth> {
  return (await node.client.health()).body;
}

/** Waits until every node reports the same applied position and document count as `leader`. */
export async function waitInSync(
  leader: NodeProcess,
  followers: readonly NodeProcess[],
  timeoutMs = 120_000,
): Promise<NodeHealth> {
  // A mismatch is thrown, so that a timeout names what the nodes said last.
  const state = (id: string, h: NodeHealth) =>
    `${id}: ${h.status}${h.ready ? '' : ' (not ready)'} at ${h.index.applied_seq}, ${h.index.size} documents`;
  return waitFor(
    `${followers.map((f) => f.id).join(', ')} to reach ${leader.id}'s applied position`,
    async () => {
      const lh = await health(leader);
      for (const f of followers) {
        const fh = await health(f);
        if (!fh.ready || fh.index.applied_seq !== lh.index.applied_seq || fh.index.size !== lh.index.size) {
          throw new Error(`${state(leader.id, lh)}; ${state(f.id, fh)}`);
        }
      }
      return lh;
    },
    timeoutMs,
    200,
  );
}

export { waitFor };
