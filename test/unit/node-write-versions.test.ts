/**
 * A retried ingest job never undoes a newer acknowledged write: the write path (worker-node/
 * write-path.ts) stamps every op of a job with one version (here, for jobs queued without one, the
 * job's queue id; test/integration/write-versions-redis.test.ts covers versions issued at
 * acceptance), and the real metadata store
 * (SQLite in process) skips a version it already holds something newer than. The change log is
 * an in-memory list whose appends the store applies in order, as every node's applier does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { IngestJobData, IngestOp } from '../../worker-node/ingest/ingest-queue.ts';
import { silentLogger } from '../../worker-node/log.ts';
import { type ApplyEntry, MetadataStore } from '../../worker-node/metadata/store.ts';
import type { ChangeLogPort, IngestQueuePort } from '../../worker-node/parts.ts';
import type { LogOp } from '../../worker-node/replication/change-log.ts';
import type { RoleControl } from '../../worker-node/role-control.ts';
import { WritePath } from '../../worker-node/write-path.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setUp() {
  const dir = mkdtempSync(join(tmpdir(), 'gte-versions-'));
  dirs.push(dir);
  const store = new MetadataStore(join(dir, 'metadata.sqlite'));
  let seq = 0;
  const appendedBy: string[] = [];
  const log = {
    append: async (_epoch: number, _model: string, ops: readonly LogOp[], node?: string) => {
      appendedBy.push(node ?? '');
      const entries = ops.map((o) => ({ ...o, seq: `${++seq}-0` }) as ApplyEntry);
      store.applyBatch(entries);
      return entries.map((e) => e.seq);
    },
  } as unknown as ChangeLogPort;
  let failEmbedCall: number | null = null;
  let embedCalls = 0;
  const writes = new WritePath({
    nodeId: 'a',
    log,
    queue: {} as IngestQueuePort,
    roles: {
      current: { role: 'master', epoch: 1, master: 'a' },
      stepDown: async () => undefined,
    } as unknown as RoleControl,
    embedder: {
      info: { id: 'm', checksum: '', dimension: 2, pooling: 'mean', maxLength: 8, device: 'cpu' },
      passages: async (texts: string[]) => texts.map((text) => [{ start: 0, end: text.length }]),
      embed: async (texts: string[]) => {
        if (++embedCalls === failEmbedCall) throw new Error('embedder worker exited with code 70');
        return texts.map(() => new Float32Array([1, 0]));
      },
    },
    replica: { appliedSeq: '0-0', maxWriteVersion: 0, waitForApplied: async () => undefined },
    logger: silentLogger,
  });
  const job = (id: string, ops: IngestOp[]) => ({
    id,
    data: { ops, accepted_at: 0 } satisfies IngestJobData,
    updateProgress: async () => undefined,
  });
  return {
    store,
    writes,
    job,
    appendedBy,
    failOnEmbedCall: (n: number) => {
      embedCalls = 0;
      failEmbedCall = n;
    },
  };
}

const upsert = (id: string, text: string): IngestOp => ({ op: 'upsert', id, text, metadata: {} });

describe('versions: a retried job re-appends with its original version', () => {
  it('a job that failed after its first chunk, retried after a newer write of the same id, leaves the newer write', async () => {
    const { store, writes, job, appendedBy, failOnEmbedCall } = setUp();
    // 65 documents: the first 64 go in one chunk, the 65th in a second one.
    const older = job(
      '5',
      Array.from({ length: 65 }, (_, i) => upsert(`doc-${i}`, `job 5 text ${i}`)),
    );
    failOnEmbedCall(2);
    await expect(writes.processJob(older)).rejects.toThrow(/code 70/);
    expect(store.getDocument('doc-0')?.text).toBe('job 5 text 0');
    expect(store.getDocument('doc-64')).toBeUndefined();

    // A newer write of doc-0, accepted (and acknowledged) after job 5.
    await writes.processJob(job('6', [upsert('doc-0', 'job 6 text')]));
    expect(store.getDocument('doc-0')?.text).toBe('job 6 text');

    // BullMQ retries job 5: both chunks are appended again, with version 5.
    failOnEmbedCall(0);
    await writes.processJob(older);
    expect(store.getDocument('doc-0')?.text).toBe('job 6 text');
    expect(store.getDocument('doc-1')?.text).toBe('job 5 text 1');
    expect(store.getDocument('doc-64')?.text).toBe('job 5 text 64');
    // Every append named this node, the fence holder.
    expect(new Set(appendedBy)).toEqual(new Set(['a']));
    store.close();
  });

  it('a retried delete does not remove a document written again after it', async () => {
    const { store, writes, job } = setUp();
    await writes.processJob(job('1', [upsert('x', 'first')]));
    const remove = job('2', [{ op: 'delete', id: 'x' }]);
    await writes.processJob(remove);
    await writes.processJob(job('3', [upsert('x', 'written again')]));
    await writes.processJob(remove);
    expect(store.getDocument('x')?.text).toBe('written again');
    store.close();
  });
});
