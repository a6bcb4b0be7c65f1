/**
 * Where Redis is and how to reach it, for every part that talks to it (search nodes, the ingest
 * queue, the local cluster, bench, chaos, tests): one server (`REDIS_URL`), a Sentinel-managed
 * master (`REDIS_SENTINELS` + `REDIS_SENTINEL_MASTER`) or a Redis Cluster (`REDIS_CLUSTER_NODES`).
 * Parsing is pure (it names the setting that is wrong); `connectRedis` builds the ioredis client.
 *
 * Every key GTE-Pro writes carries one hash tag (`{gte}:log`, `{gte}:fence`, ...), so that on a
 * Redis Cluster the Lua scripts touching several of them find them in one slot, and WAIT can be
 * sent to the one master that owns them.
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

export interface HostPort {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: 'single'; url: string }
  | {
      kind: 'sentinel';
      sentinels: HostPort[];
      master: string;
      password?: string;
      sentinelPassword?: string;
    }
  | { kind: 'cluster'; nodes: HostPort[]; password?: string };

/** A connection to any of the three: ioredis gives both the same commands. */
export type RedisClient = Redis | Cluster;

/** The Redis settings a process reads from its environment. */
export const REDIS_ENV_NAMES = [
  'REDIS_URL',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_MASTER',
  'REDIS_PASSWORD',
  'REDIS_SENTINEL_PASSWORD',
  'REDIS_CLUSTER_NODES',
] as const;

export type RedisEnv = Partial<Record<(typeof REDIS_ENV_NAMES)[number], string>>;

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** A bad Redis setting: `setting` is the variable to fix. */
export class RedisSettingError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(message);
  }
}

/** `host:port,host:port` (IPv6 as `[::1]:port`); throws naming `setting` when it is not that. */
export function parseHostPorts(setting: string, value: string): HostPort[] {
  const parts = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) throw new RedisSettingError(setting, 'a comma-separated list of host:port');
  return parts.map((part) => {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(part);
    const port = m ? Number(m[3]) : 0;
    if (!m || port < 1 || port > 65_535)
      throw new RedisSettingError(setting, `${JSON.stringify(part)} is not host:port (e.g. 10.0.0.5:26379)`);
    return { host: (m[1] ?? m[2])!, port };
  });
}

/**
 * Which Redis the settings describe. Sentinel and Cluster exclude each other and an explicit
 * REDIS_URL (two answers to "where is Redis" is a mistake worth stopping for); none of them: the
 * default local server.
 */
export function redisTargetFromEnv(env: RedisEnv): RedisTarget {
  const set = (v: string | undefined): v is string => v !== undefined && v !== '';
  const chosen = (['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const).filter((k) =>
    set(env[k]),
  );
  if (chosen.length > 1)
    throw new RedisSettingError(
      chosen[1]!,
      `set only one of ${chosen.join(', ')} (they name different Redis)`,
    );
  if (set(env.REDIS_SENTINEL_MASTER) && !set(env.REDIS_SENTINELS))
    throw new RedisSettingError(
      'REDIS_SENTINELS',
      'required with REDIS_SENTINEL_MASTER (the Sentinels, host:port)',
    );
  const password = set(env.REDIS_PASSWORD) ? env.REDIS_PASSWORD : undefined;
  if (set(env.REDIS_SENTINELS)) {
    const sentinels = parseHostPorts('REDIS_SENTINELS', env.REDIS_SENTINELS);
    if (!set(env.REDIS_SENTINEL_MASTER))
      throw new RedisSettingError(
        'REDIS_SENTINEL_MASTER',
        'required with REDIS_SENTINELS: the master name the Sentinels monitor (e.g. mymaster)',
      );
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(env.REDIS_SENTINEL_MASTER))
      throw new RedisSettingError('REDIS_SENTINEL_MASTER', 'letters, digits, . _ - (the monitored name)');
    const sentinelPassword = set(env.REDIS_SENTINEL_PASSWORD) ? env.REDIS_SENTINEL_PASSWORD : undefined;
    return { kind: 'sentinel', sentinels, master: env.REDIS_SENTINEL_MASTER, password, sentinelPassword };
  }
  if (set(env.REDIS_SENTINEL_PASSWORD))
    throw new RedisSettingError('REDIS_SENTINEL_PASSWORD', 'only meaningful with REDIS_SENTINELS');
  if (set(env.REDIS_CLUSTER_NODES))
    return {
      kind: 'cluster',
      nodes: parseHostPorts('REDIS_CLUSTER_NODES', env.REDIS_CLUSTER_NODES),
      password,
    };
  const url = set(env.REDIS_URL) ? env.REDIS_URL : DEFAULT_REDIS_URL;
  if (!/^rediss?:\/\/[^\s]+$/.test(url))
    throw new RedisSettingError('REDIS_URL', 'a redis:// or rediss:// URL, e.g. redis://10.0.0.5:6379');
  if (password !== undefined)
    throw new RedisSettingError(
      'REDIS_PASSWORD',
      'with REDIS_URL put the password in the URL (redis://:pw@host)',
    );
  return { kind: 'single', url };
}

/** The environment that makes a child process reach `target` (the inverse of redisTargetFromEnv). */
export function redisTargetEnv(target: RedisTarget): Record<string, string> {
  const list = (hs: HostPort[]) =>
    hs.map((h) => `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`).join(',');
  if (target.kind === 'single') return { REDIS_URL: target.url };
  if (target.kind === 'cluster')
    return {
      REDIS_CLUSTER_NODES: list(target.nodes),
      ...(target.password ? { REDIS_PASSWORD: target.password } : {}),
    };
  return {
    REDIS_SENTINELS: list(target.sentinels),
    REDIS_SENTINEL_MASTER: target.master,
    ...(target.password ? { REDIS_PASSWORD: target.password } : {}),
    ...(target.sentinelPassword ? { REDIS_SENTINEL_PASSWORD: target.sentinelPassword } : {}),
  };
}

/** One line for logs and status: where Redis is, without passwords. */
export function describeRedisTarget(target: RedisTarget): string {
  const list = (hs: HostPort[]) => hs.map((h) => `${h.host}:${h.port}`).join(',');
  if (target.kind === 'single') return target.url.replace(/\/\/[^@/]*@/, '//');
  if (target.kind === 'cluster') return `cluster ${list(target.nodes)}`;
  return `sentinel ${target.master}@${list(target.sentinels)}`;
}

/** Keys under one hash tag: REDIS_PREFIX `gte` → `{gte}`, so `{gte}:log`, `{gte}:fence`, ... */
export function redisKeyPrefix(prefix: string): string {
  return /^\{[^{}]+\}$/.test(prefix) ? prefix : `{${prefix}}`;
}

const RECONNECT_MAX_MS = 500;

/**
 * A connection to `target`. `options` are per-connection settings (retries, offline queue); on a
 * Cluster they apply to every node's connection. A Sentinel client follows the master when
 * Sentinel promotes another one (and reconnects on READONLY, from a master that was demoted).
 */
export function connectRedis(target: RedisTarget, options: RedisOptions = {}): RedisClient {
  // Reconnect attempts back off to half a second at most (ioredis: 2 s), so that writes resume
  // soon after Redis is back or Sentinel has promoted a replica.
  options = { retryStrategy: (times: number) => Math.min(times * 50, RECONNECT_MAX_MS), ...options };
  if (target.kind === 'single') return new Redis(target.url, options);
  if (target.kind === 'sentinel')
    return new Redis({
      ...options,
      sentinels: target.sentinels,
      name: target.master,
      password: target.password,
      sentinelPassword: target.sentinelPassword,
      failoverDetector: true,
      reconnectOnError: (err) => err.message.startsWith('READONLY'),
    });
  const clusterOptions: ClusterOptions = {
    enableOfflineQueue: options.enableOfflineQueue,
    lazyConnect: options.lazyConnect,
    redisOptions: { ...options, password: target.password },
  };
  if (options.maxRetriesPerRequest !== undefined)
    clusterOptions.redisOptions!.maxRetriesPerRequest = options.maxRetriesPerRequest;
  return new Cluster(target.nodes, clusterOptions);
}

/** The hash slot of `key` (CRC16/XMODEM of its hash tag, mod 16384), as Redis Cluster computes it. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  let tagged = key;
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) tagged = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(tagged)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16_384;
}

/**
 * The connection that owns `key`'s slot: the client itself, or on a Cluster the master node's
 * connection that the keyed commands use (WAIT counts the writes of the connection it is sent on).
 */
export function connectionForKey(client: RedisClient, key: string): Redis | null {
  if (!(client instanceof Cluster)) return client;
  const owners = client.slots[keySlot(key)];
  const masterKey = owners?.[0];
  if (!masterKey) return null;
  return client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === masterKey) ?? null;
}
