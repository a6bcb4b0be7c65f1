/**
 * A private redis-server on a free loopback port with a temporary directory, for the tests that
 * kill or restart Redis and for the local cluster when no Redis answers at REDIS_URL.
 * AOF on (appendfsync always) so that a restart keeps every acknowledged entry.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';
import { spawnTethered } from './tether.ts';
import { waitFor } from './wait.ts';

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  child: ChildProcess;
  /** SIGKILL (no shutdown save): only what AOF already holds survives. */
  kill(): Promise<void>;
  /** Start again on the same port and directory. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisServer(
  opts: { port?: number; dir?: string; tether?: number; args?: string[] } = {},
): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'gte-redis-'));
  mkdirSync(dir, { recursive: true });
  const launch = async (): Promise<ChildProcess> => {
    const redisArgs = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
      // Replication or cluster mode (redis-topology.ts).
      ...(opts.args ?? []),
    ];
    // Tethered: the redis-server dies with the process that asked for it, even after kill -9.
    const child = opts.tether
      ? spawnTethered(opts.tether, 'redis-server', redisArgs, { stdio: 'ignore' })
      : spawn('redis-server', redisArgs, { stdio: 'ignore' });
    child.on('error', () => undefined);
    await waitPing(port);
    return child;
  };
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    child: await launch(),
    async kill() {
      const child = server.child;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      // Behind a tether the redis-server is the tether's child: SIGKILL it there (the tether exits
      // with it), so that a Redis master dies as it would in a crash, without a shutdown handshake
      // with its replicas. A bare server is SIGKILLed directly.
      const inner = opts.tether && child.pid ? childPids(child.pid) : [];
      if (inner.length > 0) for (const pid of inner) process.kill(pid, 'SIGKILL');
      else child.kill(opts.tether ? 'SIGTERM' : 'SIGKILL');
      await exited;
    },
    async restart() {
      server.child = await launch();
    },
    async stop() {
      if (server.child.exitCode === null && server.child.signalCode === null) await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** The pids of `pid`'s children (Linux /proc), or none when that cannot be read. */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(/\s+/)
      .filter((p) => p !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Whether a Redis at `url` answers PING now (one try, one second at most). */
export async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function waitPing(port: number, timeoutMs = 10_000): Promise<void> {
  try {
    await waitFor(
      `redis-server on port ${port}`,
      () => redisAnswers(`redis://127.0.0.1:${port}`),
      timeoutMs,
      50,
    );
  } catch {
    throw new Error(
      `redis-server on port ${port} did not answer within ${timeoutMs} ms (is redis-server installed? apt-get install redis-server)`,
    );
  }
}

/** Deletes every key under `prefix` (a finished cluster or dataset on a shared Redis); best effort. */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } catch {
    /* best effort: a dead Redis has nothing left to clean */
  } finally {
    client.disconnect();
  }
}
