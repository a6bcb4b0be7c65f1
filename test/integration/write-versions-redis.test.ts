/**
 * Write versions outlive Redis's memory. Every node keeps the highest version of each id and skips
 * an older one (so a retried job cannot undo a newer write); if versions came from a counter in
 * Redis, a Redis that lost its keys (a wipe, a restart without persistence, a promoted replica
 * that missed the last writes) would start over below what the nodes hold, and every new write of
 * an existing document would be acknowledged and then silently skipped everywhere.
 *
 * Real Redis throughout: the change log's version script against a private redis-server, and a
 * real search node whose Redis is flushed under it.
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../scripts/cluster/redis-server.ts';
import { ChangeLog } from '../../worker-node/replication/change-log.ts';
import { electMaster, NODE_TEST_TIMEOUT_MS, startNodeCluster, type TestCluster } from '../helpers/cluster.ts';
import { readDocuments } from '../helpers/node-data.ts';
import { uniquePrefix } from '../helpers/redis.ts';

let redis: RedisServer | undefined;
let client: Redis | undefined;

beforeAll(async () => {
  redis = await startRedisServer();
  client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
}, NODE_TEST_TIMEOUT_MS);
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

describe('ChangeLog.issueVersion', () => {
  it('issues strictly rising versions, above the floor, and keeps rising after Redis lost the key', async () => {
    const log = new ChangeLog(client!, uniquePrefix('t-version'));
    const first = await log.issueVersion(0);
    const second = await log.issueVersion(0);
    expect(second).toBeGreaterThan(first);
    expect(Number.isSafeInteger(second)).toBe(true);

    // A floor above everything issued (what a node already applied) is exceeded.
    const floor = second + 10_000_000_000;
    expect(await log.issueVersion(floor)).toBe(floor + 1);

    // The key is gone (Redis wiped): still above the versions issued before it, from the clock...
    await client!.del(log.keys.version);
    expect(await log.issueVersion(0)).toBeGreaterThan(second);
    // ...and above the floor of what the nodes hold, whatever the clock says.
    await client!.del(log.keys.version);
    expect(await log.issueVersion(floor + 5)).toBe(floor + 6);
  });

  it('never hands out the same version twice under concurrent calls', async () => {
    const log = new ChangeLog(client!, uniquePrefix('t-version'));
    const versions = await Promise.all(Array.from({ length: 200 }, () => log.issueVersion(0)));
    expect(new Set(versions).size).toBe(200);
  });
});

describe('a search node whose Redis lost every key', () => {
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    cluster = await startNodeCluster({ nodes: ['a'], redis });
  }, NODE_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await cluster?.stop();
  });

  it(
    'applies a new write of a document it already holds',
    async () => {
      const a = cluster!.node('a');
      const doc = (text: string) => [{ id: 'policy-1', text, metadata: {} }];
      const first = await a.client.upsert(doc('travel policy, first version'), 1, 'applied');
      expect(first.status).toBe(200);

      // Redis forgets everything: the log, the fence, the ingest queue and its job counter.
      await client!.flushall();
      // The coordinator raises the fence again by activating a master at a newer epoch.
      await electMaster(cluster!, 'a', 2);

      const second = await a.client.upsert(doc('travel policy, second version'), 2, 'applied');
      expect(second.status).toBe(200);
      expect(readDocuments(join(cluster!.dir, 'a')).get('policy-1')?.text).toBe(
        'travel policy, second version',
      );
    },
    NODE_TEST_TIMEOUT_MS,
  );
});
