/**
 * What /api/v1/status and the status page say about Redis (edge/redis-status.ts): the master's
 * report of its topology, and whether writes can be acknowledged.
 */
import { describe, expect, it } from 'vitest';
import type { NodeHealth, RedisTopologyHealth } from '../../shared/schemas.ts';
import { redisStatus } from '../../edge/redis-status.ts';

const topology: RedisTopologyHealth = {
  kind: 'sentinel',
  role: 'master',
  replicas: 1,
  min_replicas_ack: 1,
  fence: 4,
};

function reported(id: string, redis: 'up' | 'down', t: RedisTopologyHealth | undefined): NodeHealth {
  return { node: id, replication: { lag_entries: 0, lag_ms: 0, redis, redis_topology: t } } as NodeHealth;
}

describe('redisStatus', () => {
  it("is the master's report, ok when WAIT has its replicas and the fence is at the epoch", () => {
    expect(redisStatus(reported('m', 'up', topology), 4)).toEqual({
      ...topology,
      state: 'ok',
      reported_by: 'm',
    });
  });

  it('says why writes cannot be acknowledged', () => {
    expect(redisStatus(reported('m', 'down', topology), 4)?.state).toBe('down');
    expect(redisStatus(reported('m', 'up', topology), 5)?.state).toBe('fence_behind');
    expect(redisStatus(reported('m', 'up', { ...topology, replicas: 0 }), 4)?.state).toBe('unreplicated');
  });

  it('is null before the master reported Redis', () => {
    expect(redisStatus(reported('m', 'up', undefined), 4)).toBeNull();
    expect(redisStatus(null, 4)).toBeNull();
  });
});
