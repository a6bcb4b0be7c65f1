/**
 * Redis as it runs in production, on loopback, for the tests, the local cluster and chaos: one
 * server; a master with a replica watched by three Sentinels (`redis-server --sentinel`); or a
 * Redis Cluster of three masters (`cluster-enabled yes`, `redis-cli --cluster create`). Each
 * server is a private redis-server of redis-server.ts (AOF, fsync always, its own directory).
 */
import { spawn, type ChildProcess, execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { RedisTarget } from '../../worker-node/redis-connection.ts';
import { freePort } from './ports.ts';
import { type RedisServer, startRedisServer } from './redis-server.ts';
import { spawnTethered } from './tether.ts';
import { waitFor } from './wait.ts';

export type RedisTopologyKind = 'single' | 'sentinel' | 'cluster';

export const SENTINEL_MASTER_NAME = 'gte';

export interface RedisTopology {
  kind: RedisTopologyKind;
  /** What every client is given (redis-connection.ts). */
  target: RedisTarget;
  /** The data servers: [master, replica] for Sentinel, the three masters for Cluster. */
  servers: RedisServer[];
  /** The server Sentinel currently names as master (Sentinel only; else the first server). */
  currentMaster(): Promise<RedisServer>;
  stop(): Promise<void>;
}

export interface TopologyOptions {
  /** Tether every process to this pid (the local cluster); tests leave it out to kill -9 servers. */
  tether?: number;
  dir?: string;
}

export async function startRedisTopology(
  kind: RedisTopologyKind,
  opts: TopologyOptions = {},
): Promise<RedisTopology> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), `gte-redis-${kind}-`));
  mkdirSync(dir, { recursive: true });
  if (kind === 'sentinel') return startSentinelTopology(dir, opts.tether);
  if (kind === 'cluster') return startClusterTopology(dir, opts.tether);
  const server = await startRedisServer({ dir: join(dir, 'redis'), tether: opts.tether });
  return {
    kind,
    target: { kind: 'single', url: server.url },
    servers: [server],
    currentMaster: async () => server,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One command sequence on a fresh connection to a loopback Redis (no retries), then disconnect. */
export async function askOnce<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/**
 * A master and one replica, three Sentinels with quorum 2. Sentinel declares the master down
 * after 1 s without an answer, so a kill -9 is followed by a promotion in about two seconds.
 */
async function startSentinelTopology(dir: string, tether?: number): Promise<RedisTopology> {
  const master = await startRedisServer({ dir: join(dir, 'master'), tether });
  const replica = await startRedisServer({
    dir: join(dir, 'replica'),
    tether,
    args: ['--replicaof', '127.0.0.1', String(master.port)],
  });
  const servers = [master, replica];
  const sentinels: { port: number; child: ChildProcess }[] = [];
  const stop = async () => {
    // A tether forwards SIGTERM to its Sentinel; a SIGKILL would orphan it.
    for (const s of sentinels) s.child.kill(tether ? 'SIGTERM' : 'SIGKILL');
    await Promise.allSettled(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${i}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${master.port} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 1000`,
          // A failover attempt that fails (a Sentinel starved of CPU on a busy machine misses
          // its election) is retried after twice this: 10 s, not 6 min as with Redis's default (3 min).
          `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 5000`,
          `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      const args = [conf, '--sentinel'];
      const child = tether
        ? spawnTethered(tether, 'redis-server', args, { stdio: 'ignore' })
        : spawn('redis-server', args, { stdio: 'ignore' });
      child.on('error', () => undefined);
      sentinels.push({ port, child });
    }
    // Ready when the replica has synced, the master counts it online (it does so only at the
    // replica's first acknowledgement, up to a second after the replica says its link is up; until
    // then WAIT has no replica to wait for), and every Sentinel knows the replica and both other
    // Sentinels.
    await waitFor(
      'the replica to sync and every Sentinel to see the replica and its peers',
      async () => {
        const link = await askOnce(replica.port, (r) => r.info('replication'));
        if (!/master_link_status:up/.test(link)) return false;
        const seen = await askOnce(master.port, (r) => r.info('replication'));
        if (!/^slave\d+:.*state=online/m.test(seen)) return false;
        for (const s of sentinels) {
          const ok = await askOnce(s.port, async (r) => {
            const replicas = (await r.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME)) as unknown[];
            const peers = (await r.call('SENTINEL', 'SENTINELS', SENTINEL_MASTER_NAME)) as unknown[];
            return replicas.length >= 1 && peers.length >= 2;
          });
          if (!ok) return false;
        }
        return true;
      },
      30_000,
      200,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    kind: 'sentinel',
    target: {
      kind: 'sentinel',
      sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      master: SENTINEL_MASTER_NAME,
    },
    servers,
    async currentMaster() {
      const [, port] = (await askOnce(sentinels[0]!.port, (r) =>
        r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME),
      )) as [string, string];
      const found = servers.find((s) => s.port === Number(port));
      if (!found) throw new Error(`Sentinel names a master on port ${port}, which is none of ours`);
      return found;
    },
    stop,
  };
}

/** Three masters, every slot assigned, no replicas (a master lost is a slot range lost). */
async function startClusterTopology(dir: string, tether?: number): Promise<RedisTopology> {
  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3; i++) {
      const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'];
      servers.push(
        await startRedisServer({
          dir: join(dir, `node-${i}`),
          tether,
          args: [...args, '--cluster-node-timeout', '2000'],
        }),
      );
    }
    await promisify(execFile)('redis-cli', [
      '--cluster',
      'create',
      ...servers.map((s) => `127.0.0.1:${s.port}`),
      '--cluster-yes',
    ]);
    await waitFor(
      'every Redis Cluster node to report cluster_state:ok',
      async () => {
        for (const s of servers)
          if (!/cluster_state:ok/.test(await askOnce(s.port, (r) => r.cluster('INFO')))) return false;
        return true;
      },
      30_000,
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    kind: 'cluster',
    target: { kind: 'cluster', nodes: servers.map((s) => ({ host: '127.0.0.1', port: s.port })) },
    servers,
    currentMaster: async () => servers[0]!,
    stop,
  };
}

/**
 * A redis:// URL of one data server of `target` (the state file's `redis_url`): the URL itself, the
 * master the Sentinels name now, or the first Cluster seed node.
 */
export async function oneServerUrl(target: RedisTarget): Promise<string> {
  if (target.kind === 'single') return target.url;
  const auth = target.password ? `:${encodeURIComponent(target.password)}@` : '';
  if (target.kind === 'cluster') return `redis://${auth}${hostPort(target.nodes[0]!)}`;
  for (const s of target.sentinels) {
    const sentinel = new Redis({
      ...s,
      password: target.sentinelPassword,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    sentinel.on('error', () => undefined);
    try {
      await sentinel.connect();
      const addr = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', target.master)) as
        | [string, string]
        | null;
      if (addr) return `redis://${auth}${hostPort({ host: addr[0], port: Number(addr[1]) })}`;
    } catch {
      /* the next Sentinel */
    } finally {
      sentinel.disconnect();
    }
  }
  throw new Error(`no Sentinel names a master for ${target.master}`);
}

function hostPort(h: { host: string; port: number }): string {
  return `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`;
}
