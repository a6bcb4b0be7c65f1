/**
 * The fence in real Redis (the machine's, under a unique prefix): one writer per epoch. A higher
 * epoch always takes the fence; the same epoch only for the node that holds it, so a replayed or
 * duplicated activate cannot make a second writer; an append from a node that does not hold the
 * fence is refused even at the right epoch.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ChangeLog, StaleEpochError } from '../../worker-node/replication/change-log.ts';
import { uniquePrefix } from '../helpers/redis.ts';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
const prefix = uniquePrefix('t-fence');
const log = new ChangeLog(redis, prefix);
const vector = new Float32Array([1, 0]);
const upsert = (id: string) => ({ op: 'upsert' as const, id, text: id, metadata: {}, vector });

afterAll(async () => {
  const keys = await redis.keys(`{${prefix}}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('ChangeLog fence holder', () => {
  it('lets only the holder take the fence again at the same epoch', async () => {
    expect(await log.takeFence(3, 'node-a')).toBe(3);
    expect(await log.takeFence(3, 'node-a')).toBe(3);
    const replay = log.takeFence(3, 'node-b');
    await expect(replay).rejects.toBeInstanceOf(StaleEpochError);
    await expect(replay).rejects.toMatchObject({ status: 409, code: 'stale_epoch' });
    expect(await redis.get(`{${prefix}}:fence_holder`)).toBe('node-a');
    // A higher epoch moves the fence to its taker; a lower one changes nothing.
    expect(await log.takeFence(4, 'node-b')).toBe(4);
    expect(await log.takeFence(3, 'node-a')).toBe(4);
    expect(await redis.get(`{${prefix}}:fence_holder`)).toBe('node-b');
  });

  it('refuses an append at the fence epoch from a node that does not hold it', async () => {
    const ids = await log.append(4, 'm', [upsert('d1')], 'node-b');
    expect(ids).toHaveLength(1);
    await expect(log.append(4, 'm', [upsert('d2')], 'node-a')).rejects.toMatchObject({
      code: 'stale_epoch',
      message: expect.stringContaining('held by node-b'),
    });
    await expect(log.append(3, 'm', [upsert('d3')], 'node-b')).rejects.toBeInstanceOf(StaleEpochError);
    expect(await log.length()).toBe(1);
  });

  it('carries each write version through the log', async () => {
    await log.append(
      4,
      'm',
      [
        { ...upsert('v1'), version: 42 },
        { op: 'delete', id: 'v0', version: 43 },
      ],
      'node-b',
    );
    const entries = await log.readAfter('0-0', 10);
    expect(entries.map((e) => [e.entry.id, e.entry.version])).toEqual([
      ['d1', undefined],
      ['v1', 42],
      ['v0', 43],
    ]);
  });
});
