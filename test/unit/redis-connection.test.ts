/**
 * The Redis settings (one server, Sentinel, Cluster) as every process reads them, the hash-tag
 * key prefix, the slot that owns the keys, and how many Redis replicas a write must reach.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  describeRedisTarget,
  keySlot,
  parseHostPorts,
  redisKeyPrefix,
  redisTargetEnv,
  redisTargetFromEnv,
} from '../../worker-node/redis-connection.ts';
import type { Redis } from 'ioredis';
import {
  parseReplicationInfo,
  ReplicaAck,
  requiredReplicas,
} from '../../worker-node/replication/redis-ack.ts';

const settingOf = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as { setting?: string }).setting;
  }
  return null;
};

describe('redisTargetFromEnv', () => {
  it('defaults to the local server and accepts a URL', () => {
    expect(redisTargetFromEnv({})).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379' });
    expect(redisTargetFromEnv({ REDIS_URL: 'rediss://:pw@10.0.0.5:6380' })).toEqual({
      kind: 'single',
      url: 'rediss://:pw@10.0.0.5:6380',
    });
  });

  it('reads Sentinels with their master name and passwords', () => {
    expect(
      redisTargetFromEnv({
        REDIS_SENTINELS: '10.0.0.1:26379, 10.0.0.2:26379,[::1]:26380',
        REDIS_SENTINEL_MASTER: 'mymaster',
        REDIS_PASSWORD: 'p',
        REDIS_SENTINEL_PASSWORD: 's',
      }),
    ).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      master: 'mymaster',
      password: 'p',
      sentinelPassword: 's',
    });
  });

  it('reads Cluster seed nodes', () => {
    expect(redisTargetFromEnv({ REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001' })).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: '127.0.0.1', port: 7001 },
      ],
      password: undefined,
    });
  });

  it('names the setting that is wrong', () => {
    expect(settingOf(() => redisTargetFromEnv({ REDIS_URL: 'http://x' }))).toBe('REDIS_URL');
    expect(settingOf(() => redisTargetFromEnv({ REDIS_SENTINELS: 'a:1' }))).toBe('REDIS_SENTINEL_MASTER');
    expect(settingOf(() => redisTargetFromEnv({ REDIS_SENTINEL_MASTER: 'm' }))).toBe('REDIS_SENTINELS');
    expect(settingOf(() => redisTargetFromEnv({ REDIS_SENTINELS: 'a', REDIS_SENTINEL_MASTER: 'm' }))).toBe(
      'REDIS_SENTINELS',
    );
    expect(settingOf(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: 'a:99999' }))).toBe(
      'REDIS_CLUSTER_NODES',
    );
    expect(settingOf(() => redisTargetFromEnv({ REDIS_CLUSTER_NODES: ' , ' }))).toBe('REDIS_CLUSTER_NODES');
    expect(settingOf(() => redisTargetFromEnv({ REDIS_URL: 'redis://a', REDIS_CLUSTER_NODES: 'a:1' }))).toBe(
      'REDIS_CLUSTER_NODES',
    );
    expect(settingOf(() => redisTargetFromEnv({ REDIS_SENTINEL_PASSWORD: 's' }))).toBe(
      'REDIS_SENTINEL_PASSWORD',
    );
    expect(settingOf(() => redisTargetFromEnv({ REDIS_PASSWORD: 'p' }))).toBe('REDIS_PASSWORD');
    expect(() => parseHostPorts('X', 'host:0')).toThrow(/host:port/);
  });

  it('round-trips through the environment a child process is given', () => {
    for (const env of [
      { REDIS_URL: 'redis://127.0.0.1:7777' },
      { REDIS_SENTINELS: '127.0.0.1:1,[::1]:2', REDIS_SENTINEL_MASTER: 'gte', REDIS_PASSWORD: 'p' },
      { REDIS_CLUSTER_NODES: '127.0.0.1:1,127.0.0.1:2' },
    ]) {
      const target = redisTargetFromEnv(env);
      expect(redisTargetEnv(target)).toEqual(env);
    }
  });

  it('describes a target without its password', () => {
    expect(describeRedisTarget({ kind: 'single', url: 'redis://:secret@h:1' })).toBe('redis://h:1');
    expect(
      describeRedisTarget(redisTargetFromEnv({ REDIS_SENTINELS: 'h:1', REDIS_SENTINEL_MASTER: 'm' })),
    ).toBe('sentinel m@h:1');
  });
});

describe('keys under one hash tag', () => {
  it('braces REDIS_PREFIX once', () => {
    expect(redisKeyPrefix('gte')).toBe('{gte}');
    expect(redisKeyPrefix('{gte}')).toBe('{gte}');
  });

  it('computes the slot Redis Cluster does (CRC16 of the hash tag)', () => {
    // Values from the Redis Cluster specification and CLUSTER KEYSLOT.
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('123456789')).toBe(0x31c3 % 16384);
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('{gte}:log')).toBe(keySlot('{gte}:fence'));
    expect(keySlot('{}x')).toBe(keySlot('{}x')); // an empty tag hashes the whole key
  });
});

describe('Redis replicas a write must reach', () => {
  it('reads INFO replication', () => {
    const master = [
      '# Replication',
      'role:master',
      'connected_slaves:2',
      'slave0:ip=127.0.0.1,port=7001,state=online,offset=42,lag=0',
      'slave1:ip=127.0.0.1,port=7002,state=wait_bgsave,offset=0,lag=0',
      'master_repl_offset:42',
    ].join('\r\n');
    expect(parseReplicationInfo(master)).toEqual({ role: 'master', replicas: 1 });
    expect(parseReplicationInfo('role:slave\r\nmaster_host:127.0.0.1\r\nconnected_slaves:0')).toEqual({
      role: 'replica',
      replicas: 0,
    });
    expect(parseReplicationInfo('role:master\nconnected_slaves:3')).toEqual({ role: 'master', replicas: 3 });
  });

  it('defaults to 1 when the master has replicas, else 0; the setting wins', () => {
    expect(requiredReplicas(undefined, 0)).toBe(0);
    expect(requiredReplicas(undefined, 2)).toBe(1);
    expect(requiredReplicas(2, 0)).toBe(2);
    expect(requiredReplicas(0, 2)).toBe(0);
  });

  describe('after a Sentinel promotion', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('reads the topology afresh before a write once its reading is a second old, so the new master (no replica yet) is not asked to WAIT for the old one', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      // The server behind the connection: a master with one replica, then the promoted replica with none.
      let replicas = 1;
      const waits: number[] = [];
      const conn = {
        info: async () => `role:master\r\nconnected_slaves:${replicas}`,
        wait: async (n: number) => {
          waits.push(n);
          return Math.min(n, replicas);
        },
      } as unknown as Redis;
      const ack = new ReplicaAck(() => conn, { timeoutMs: 2000 });
      await ack.confirm();
      expect(waits).toEqual([1]);

      replicas = 0; // the old master died; Sentinel promoted its replica
      vi.advanceTimersByTime(1500);
      await expect(ack.confirm()).resolves.toBeUndefined();
      expect(waits).toEqual([1]); // no WAIT for a replica the new master does not have
      expect(ack.lastKnown).toEqual({ role: 'master', replicas: 0 });
    });
  });
});
