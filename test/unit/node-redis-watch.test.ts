/**
 * The node's view of Redis for /health (worker-node/replication/redis-watch.ts): the topology, the
 * replicas and how many WAIT needs, the fence; unknown (null) whenever Redis cannot be asked,
 * never the last value seen.
 */
import { describe, expect, it } from 'vitest';
import type { ChangeLog } from '../../worker-node/replication/change-log.ts';
import { RedisWatch } from '../../worker-node/replication/redis-watch.ts';

function fakeLog(state: { connected: boolean; replicas: number; fence: number; setting?: number }) {
  return {
    get connected() {
      return state.connected;
    },
    fence: async () => state.fence,
    ack: {
      minReplicasSetting: state.setting,
      replication: async () => ({ role: 'master' as const, replicas: state.replicas }),
    },
  } as unknown as ChangeLog;
}

describe('RedisWatch', () => {
  it('reports the topology, the replicas WAIT needs and the fence', async () => {
    const state = { connected: true, replicas: 1, fence: 3 };
    const watch = new RedisWatch(fakeLog(state), { kind: 'sentinel', sentinels: [], master: 'm' });
    expect(watch.view).toEqual({
      kind: 'sentinel',
      role: null,
      replicas: null,
      min_replicas_ack: null,
      fence: null,
    });
    await watch.poll();
    expect(watch.view).toEqual({
      kind: 'sentinel',
      role: 'master',
      replicas: 1,
      min_replicas_ack: 1,
      fence: 3,
    });
    // A fence raised: a refresh shows it, even with a look already under way.
    state.fence = 4;
    const under = watch.poll();
    await watch.refresh();
    await under;
    expect(watch.view.fence).toBe(4);
    // The replica gone: by default WAIT asks for none.
    state.replicas = 0;
    await watch.poll();
    expect(watch.view).toMatchObject({ replicas: 0, min_replicas_ack: 0 });
    // Redis unreachable: unknown, not the last value seen.
    state.connected = false;
    await watch.poll();
    expect(watch.view).toEqual({
      kind: 'sentinel',
      role: null,
      replicas: null,
      min_replicas_ack: null,
      fence: null,
    });
  });

  it('shows REDIS_MIN_REPLICAS_ACK when it is set', async () => {
    const watch = new RedisWatch(fakeLog({ connected: true, replicas: 0, fence: 1, setting: 2 }), {
      kind: 'single',
      url: 'redis://127.0.0.1:6379',
    });
    await watch.poll();
    expect(watch.view).toMatchObject({ kind: 'single', replicas: 0, min_replicas_ack: 2 });
  });
});
