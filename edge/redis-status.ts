/**
 * What /api/v1/status and the status page say about Redis: the master's report of the topology,
 * and whether writes can be acknowledged (the replicas WAIT needs online, the fence at the epoch).
 * Pure, over the master's last /health.
 */
import type { RedisStatus } from '../shared/edge-api.ts';
import type { NodeHealth } from '../shared/schemas.ts';

/** Redis as the master last reported it (see RedisStatus), or null before it did. */
export function redisStatus(masterHealth: NodeHealth | null, epoch: number): RedisStatus | null {
  const topology = masterHealth?.replication?.redis_topology;
  if (!masterHealth || !topology) return null;
  const state: RedisStatus['state'] =
    masterHealth.replication?.redis === 'down'
      ? 'down'
      : topology.fence !== null && topology.fence < epoch
        ? 'fence_behind'
        : (topology.min_replicas_ack ?? 0) > (topology.replicas ?? 0)
          ? 'unreplicated'
          : 'ok';
  return { ...topology, state, reported_by: masterHealth.node };
}
