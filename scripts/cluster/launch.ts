/**
 * A whole GTE-Pro cluster on loopback: Redis (the one at REDIS_URL if it answers, else a private
 * redis-server; or a Sentinel or Cluster topology of its own), N real search-node processes, and
 * the edge Worker in workerd. Used by
 * `npm run cluster`, the demo, the benchmarks, the chaos suite and the full-stack tests.
 *
 * Every child is tethered to this process: they exit when it does, even after `kill -9`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, startNode, type NodeProcess, type StartNodeOptions } from './node-process.ts';
import { freePort } from './ports.ts';
import { waitFor } from './wait.ts';
import { dropPrefix, redisAnswers, startRedisServer, type RedisServer } from './redis-server.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
import {
  describeRedisTarget,
  type RedisTarget,
  redisKeyPrefix,
  redisTargetEnv,
  redisTargetFromEnv,
} from '../../worker-node/redis-connection.ts';
import {
  oneServerUrl,
  type RedisTopology,
  type RedisTopologyKind,
  startRedisTopology,
} from './redis-topology.ts';
import { type MountResult, mountTmpfs, unmountTmpfs } from './tmpfs.ts';

export interface ClusterState {
  edge_url: string;
  admin_token: string;
  /** A search and embeddings key (the edge's API_KEYS); the admin token works as well. */
  api_key: string;
  cluster_secret: string;
  /** A server that answers; with Sentinel the master at start, with Cluster one of its nodes. */
  redis_url: string;
  redis_prefix: string;
  /** With `--redis sentinel|cluster` only: the REDIS_* settings every client uses (redis-connection.ts). */
  redis_env?: Record<string, string>;
  nodes: { id: string; url: string; pid: number; data_dir: string }[];
}

export interface ClusterOptions {
  nodes: number;
  /** Where node data and logs go; a temporary directory (removed on stop) when absent. */
  dataDir?: string;
  redisUrl?: string;
  /** Always start a private redis-server (tests that kill Redis need one). */
  privateRedis?: boolean;
  /**
   * Start Redis as this topology (scripts/cluster/redis-topology.ts): a master + replica + three
   * Sentinels, or a three-master Redis Cluster. Absent or `single`: as privateRedis / REDIS_URL say.
   */
  redisTopology?: RedisTopologyKind;
  edgePort?: number;
  /** wrangler.toml [vars] overrides for the edge (e.g. a faster PROBE_INTERVAL_MS). */
  edgeVars?: Record<string, string>;
  nodeEnv?: Record<string, string>;
  /** Each node reaches Redis through a TCP proxy of its own (scripts/cluster/tcp-proxy.ts), to cut one off. */
  redisProxies?: boolean;
  /** Each node's data directory is a tmpfs of this many MiB (needs root; see `tmpfs` for the outcome). */
  tmpfsDataMb?: number;
  onProgress?: (msg: string) => void;
}

export interface Cluster {
  state: ClusterState;
  nodes: NodeProcess[];
  redis: RedisServer | null;
  /** The Sentinel or Cluster topology this launcher started (null: a single server). */
  redisTopology: RedisTopology | null;
  dataDir: string;
  /** Restarts a node that was stopped or killed, on the same data directory and port. */
  restartNode(id: string): Promise<NodeProcess>;
  /**
   * Stops a node and starts a fresh one under the same id and port on an empty data directory
   * (the old one is kept beside it as `<dir>.replaced-N`), with `env` added to its environment.
   */
  replaceNode(id: string, env?: Record<string, string>): Promise<NodeProcess>;
  /** Node id → its Redis proxy, when started with `redisProxies`. */
  redisProxies: Map<string, TcpProxy>;
  /** Whether the node data directories are tmpfs mounts (null: not asked for). */
  tmpfs: MountResult | null;
  adminFetch(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  stop(): Promise<void>;
}

function startEdgeHost(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'edge-host.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env, GTE_PARENT_PID: String(process.pid) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith('{"edge_url"'))
        resolve({ child, url: (JSON.parse(line) as { edge_url: string }).edge_url });
    });
    child.once('exit', (code) =>
      reject(
        new Error(
          `the edge (workerd via miniflare) exited with code ${code} before it was ready:\n${stderr}`,
        ),
      ),
    );
  });
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const progress = opts.onProgress ?? (() => undefined);
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 5)
    throw new Error(`--nodes must be 1..5 (got ${opts.nodes})`);
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'gte-cluster-'));
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  const adminToken = randomBytes(24).toString('hex');
  const apiKey = randomBytes(24).toString('hex');
  // Braced: every key of this cluster (`{gte-…}:log`, the BullMQ queue) shares one hash slot.
  const prefix = redisKeyPrefix(`gte-${randomBytes(4).toString('hex')}`);

  const started: {
    nodes: NodeProcess[];
    redis: RedisServer | null;
    topology: RedisTopology | null;
    edge: ChildProcess | null;
  } = { nodes: [], redis: null, topology: null, edge: null };
  const proxies = new Map<string, TcpProxy>();
  const mounts: string[] = [];
  const stopAll = async () => {
    started.edge?.kill('SIGTERM');
    await Promise.allSettled(started.nodes.map((n) => n.stop(10_000)));
    if (started.edge && started.edge.exitCode === null)
      await new Promise((r) => started.edge!.once('exit', r));
    await Promise.allSettled([...proxies.values()].map((p) => p.close()));
    if (started.topology) await started.topology.stop();
    else if (started.redis) await started.redis.stop();
    else if (!opts.privateRedis) await dropPrefix(redisUrl, prefix);
    for (const dir of mounts) unmountTmpfs(dir);
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  let tmpfs: MountResult | null = null;

  let redisUrl = opts.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  let redisTarget: RedisTarget | null = null;
  try {
    const topologyKind = opts.redisTopology ?? 'single';
    // Sentinel or Cluster settings in the environment name the operator's own Redis: use it.
    const fromEnv =
      topologyKind === 'single' && !opts.redisUrl && !opts.privateRedis
        ? (process.env.REDIS_SENTINELS ?? process.env.REDIS_CLUSTER_NODES)
        : undefined;
    if (fromEnv) {
      redisTarget = redisTargetFromEnv(process.env);
      redisUrl = await oneServerUrl(redisTarget);
      progress(`using Redis ${describeRedisTarget(redisTarget)}`);
    } else if (topologyKind !== 'single') {
      progress(
        `starting Redis: ${topologyKind === 'sentinel' ? 'master + replica + 3 Sentinels' : 'a 3-master Redis Cluster'}`,
      );
      started.topology = await startRedisTopology(topologyKind, {
        dir: join(dataDir, 'redis'),
        tether: process.pid,
      });
      redisTarget = started.topology.target;
      redisUrl = started.topology.servers[0]!.url;
    } else if (opts.privateRedis || !(await redisAnswers(redisUrl))) {
      progress(
        opts.privateRedis
          ? 'starting a private redis-server'
          : `no Redis at ${redisUrl}; starting a private redis-server`,
      );
      started.redis = await startRedisServer({ dir: join(dataDir, 'redis'), tether: process.pid });
      redisUrl = started.redis.url;
    }
    progress(`starting ${opts.nodes} search node(s)`);
    const redisPort = Number(new URL(redisUrl).port || 6379);
    for (let i = 0; opts.redisProxies && i < opts.nodes; i++)
      proxies.set(`node-${i + 1}`, await startTcpProxy(redisPort));
    for (let i = 0; opts.tmpfsDataMb && i < opts.nodes && tmpfs?.mounted !== false; i++) {
      const dir = join(dataDir, `node-${i + 1}`);
      tmpfs = mountTmpfs(dir, opts.tmpfsDataMb);
      if (tmpfs.mounted) mounts.push(dir);
      else progress(`no tmpfs data directories: ${tmpfs.reason}`);
    }
    const nodeOpts = (i: number): StartNodeOptions => {
      const proxy = proxies.get(`node-${i + 1}`);
      return {
        id: `node-${i + 1}`,
        dataDir: join(dataDir, `node-${i + 1}`),
        redis: proxy ? `redis://127.0.0.1:${proxy.port}` : (redisTarget ?? redisUrl),
        redisPrefix: prefix,
        secret,
        env: { GTE_PARENT_PID: String(process.pid), ...opts.nodeEnv },
        // Not on a tmpfs data directory: a test that fills it must not take the log writer down.
        ...(mounts.length > 0 ? { logDir: join(dataDir, 'logs') } : {}),
      };
    };
    started.nodes = await Promise.all(Array.from({ length: opts.nodes }, (_, i) => startNode(nodeOpts(i))));
    progress('starting the edge (workerd)');
    const seed = started.nodes.map((n, i) => ({ id: n.id, url: n.url, priority: 100 - i }));
    const edge = await startEdgeHost({
      ...opts.edgeVars,
      NODES: JSON.stringify(seed),
      ADMIN_TOKEN: adminToken,
      API_KEYS: apiKey,
      CLUSTER_SECRET: secret,
      GTE_EDGE_PORT: String(opts.edgePort ?? (await freePort())),
    });
    started.edge = edge.child;
    progress('waiting for the coordinator to elect a master');
    await waitFor(
      'the edge to report a healthy master (GET /health)',
      async () => (await fetch(`${edge.url}/health`, { signal: AbortSignal.timeout(2000) })).status === 200,
      60_000,
    );

    const state: ClusterState = {
      edge_url: edge.url,
      admin_token: adminToken,
      api_key: apiKey,
      cluster_secret: secret,
      redis_url: redisUrl,
      redis_prefix: prefix,
      ...(redisTarget ? { redis_env: redisTargetEnv(redisTarget) } : {}),
      nodes: started.nodes.map((n) => ({ id: n.id, url: n.url, pid: n.child.pid!, data_dir: n.dataDir })),
    };
    const cluster: Cluster = {
      state,
      nodes: started.nodes,
      redis: started.redis,
      redisTopology: started.topology,
      dataDir,
      async restartNode(id) {
        const i = started.nodes.findIndex((n) => n.id === id);
        if (i < 0) throw new Error(`no node ${id}`);
        const old = started.nodes[i]!;
        if (old.child.exitCode === null && old.child.signalCode === null) await old.stop();
        const fresh = await startNode({ ...nodeOpts(i), port: old.port });
        return install(i, fresh);
      },
      async replaceNode(id, env = {}) {
        const i = started.nodes.findIndex((n) => n.id === id);
        if (i < 0) throw new Error(`no node ${id}`);
        const old = started.nodes[i]!;
        if (old.child.exitCode === null && old.child.signalCode === null) await old.stop();
        let n = 1;
        while (existsSync(`${old.dataDir}.replaced-${n}`)) n++;
        if (mounts.includes(old.dataDir))
          for (const f of readdirSync(old.dataDir)) rmSync(join(old.dataDir, f), { recursive: true });
        else renameSync(old.dataDir, `${old.dataDir}.replaced-${n}`);
        const base = nodeOpts(i);
        const fresh = await startNode({ ...base, env: { ...base.env, ...env }, port: old.port });
        return install(i, fresh);
      },
      redisProxies: proxies,
      tmpfs,
      adminFetch(path, init = {}) {
        const { json, ...rest } = init;
        const headers = new Headers(rest.headers);
        headers.set('authorization', `Bearer ${adminToken}`);
        if (json !== undefined) headers.set('content-type', 'application/json');
        return fetch(`${edge.url}${path}`, {
          ...rest,
          headers,
          ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
        });
      },
      stop: stopAll,
    };
    const install = (i: number, fresh: NodeProcess) => {
      started.nodes[i] = fresh;
      cluster.nodes[i] = fresh;
      state.nodes[i] = { id: fresh.id, url: fresh.url, pid: fresh.child.pid!, data_dir: fresh.dataDir };
      return fresh;
    };
    return cluster;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Writes the state file atomically, so a reader never sees half of it. */
export function writeStateFile(path: string, state: ClusterState): void {
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}
