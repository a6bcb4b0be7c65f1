/**
 * A document's passages through the change log in real Redis (the machine's, under a unique
 * prefix): an upsert appends one entry holding every passage, read back exactly; and an entry
 * written before passages existed (one vector, no spans) still reads and applies, as one passage
 * over the whole text, so a log from an older master replays on a newer node.
 */
import { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MetadataStore } from '../../worker-node/metadata/store.ts';
import { ChangeLog, encodeVector } from '../../worker-node/replication/change-log.ts';
import { uniquePrefix } from '../helpers/redis.ts';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
const prefix = uniquePrefix('t-passages');
const log = new ChangeLog(redis, prefix);
const dir = mkdtempSync(join(tmpdir(), 'gte-log-passages-'));

afterAll(async () => {
  const keys = await redis.keys(`${log.prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('passages in the change log', () => {
  it('carries every passage of a document in its one entry, and reads an entry from before passages', async () => {
    await log.takeFence(1, 'node-a');
    const passages = [
      { start: 0, end: 12, vector: Float32Array.from([1, 0, 0]) },
      { start: 10, end: 30, vector: Float32Array.from([0, 0.6, 0.8]) },
    ];
    const text = 'a long text that has two passages';
    await log.append(
      1,
      'm',
      [{ op: 'upsert', id: 'long', text, metadata: { k: 'v' }, passages, version: 7 }],
      'node-a',
    );
    // The shape an older master wrote: doc without spans, one vector.
    await redis.xadd(
      log.keys.log,
      '*',
      'epoch',
      '1',
      'op',
      'upsert',
      'id',
      'old',
      'version',
      '',
      'doc',
      JSON.stringify({ text: 'written by an older master', metadata: {} }),
      'vec',
      encodeVector(Float32Array.from([0, 1, 0])),
      'model',
      'm',
    );

    const entries = (await log.readAfter('0-0', 10)).map((e) => e.entry);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      op: 'upsert',
      id: 'long',
      text,
      metadata: { k: 'v' },
      passages,
      version: 7,
    });
    expect(entries[1]).toMatchObject({ op: 'upsert', id: 'old', vector: Float32Array.from([0, 1, 0]) });
    expect(entries[1]).not.toHaveProperty('passages');

    const store = new MetadataStore(join(dir, 'metadata.sqlite'));
    const changes = store.applyBatch(entries);
    expect(changes.added.map((p) => [p.id, p.ordinal])).toEqual([
      ['long', 0],
      ['long', 1],
      ['old', 0],
    ]);
    expect(store.spansOf(['long', 'old'])).toEqual(
      new Map([
        [
          'long',
          [
            { start: 0, end: 12 },
            { start: 10, end: 30 },
          ],
        ],
        ['old', [{ start: 0, end: 26 }]],
      ]),
    );
    store.close();
  });
});
