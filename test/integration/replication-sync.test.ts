/**
 * Replication: a master and a standby (real node processes, one private redis-server)
 * must hold the same documents at the same versions and answer every query the same, after a
 * normal replicated ingest, after the standby is killed (-9) mid-ingest and restarted, and after
 * it was away so long that the log was trimmed past its position (resync from the master's
 * snapshot). The nodes are started once; the tests run in order.
 */
import type { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeProcess } from '../../scripts/cluster/node-process.ts';
import { ChangeLog } from '../../worker-node/replication/change-log.ts';
import type { SearchResponse } from '../../shared/schemas.ts';
import { compareSeq } from '../../shared/stream-id.ts';
import { chunks, loadDocuments, loadQueries, type CorpusDoc } from '../../scripts/corpus/sample.ts';
import { syntheticDocs } from '../../scripts/corpus/synthetic.ts';
import {
  startNodeCluster,
  waitFor,
  waitInSync,
  NODE_TEST_TIMEOUT_MS,
  type TestCluster,
} from '../helpers/cluster.ts';
import { ExpectedDocs, readDocuments } from '../helpers/node-data.ts';
import { redisClient } from '../helpers/redis.ts';

const corpus = loadDocuments();
const queries = loadQueries();
let cluster: TestCluster | undefined;
let redis: Redis | undefined;
/** Every acknowledged write since the start, in order: what both nodes must end up holding. */
const expected = new ExpectedDocs();

const master = () => cluster!.node('a');
const standby = () => cluster!.node('b');

/** Upserts `docs` on the master in batches; records each acknowledged batch in `expected`. */
async function upsertAll(
  docs: readonly CorpusDoc[],
  wait: 'none' | 'applied' | 'replicated',
  batch = 200,
): Promise<string> {
  let seq = '0-0';
  for (const part of chunks(docs, batch)) {
    const res = await master().client.upsert(part, cluster!.epoch, wait);
    expect([200, 202], JSON.stringify(res.body)).toContain(res.status);
    for (const d of part) expected.upserted(d.id, d.text);
    if (res.body.seq) seq = res.body.seq;
  }
  return seq;
}

async function removeAll(ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const res = await master().client.remove(id, cluster!.epoch, 'applied');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expected.deleted(id);
  }
}

/** Both nodes' stores equal the acknowledged set: same ids, versions and texts. */
function expectStoresMatchExpected(): void {
  const onMaster = readDocuments(master().dataDir);
  const onStandby = readDocuments(standby().dataDir);
  expect(onMaster.size).toBe(expected.docs.size);
  expect(Object.fromEntries(onMaster)).toEqual(Object.fromEntries(expected.docs));
  expect(onStandby.size).toBe(onMaster.size);
  expect(Object.fromEntries(onStandby)).toEqual(Object.fromEntries(onMaster));
}

/** Every labelled query, in every search mode (hybrid is the default), answered alike by both. */
async function expectSameAnswers(a: NodeProcess, b: NodeProcess): Promise<void> {
  for (const mode of ['hybrid', 'vector', 'keyword'] as const) {
    for (const q of queries) {
      const body = { query: q.query, top_k: 5, mode };
      const [ra, rb] = await Promise.all(
        [a, b].map((n) => n.client.call<SearchResponse>('POST', '/api/v1/search', body)),
      );
      expect(ra!.status).toBe(200);
      expect(rb!.status).toBe(200);
      expect(
        rb!.body.results.map((h) => h.id),
        `${mode}: ${q.query}`,
      ).toEqual(ra!.body.results.map((h) => h.id));
      rb!.body.results.forEach((h, i) =>
        expect(Math.abs(h.score - ra!.body.results[i]!.score)).toBeLessThanOrEqual(1e-6),
      );
    }
  }
}

beforeAll(async () => {
  cluster = await startNodeCluster({ nodes: ['a', 'b'] });
  redis = redisClient(cluster.redis.url);
}, NODE_TEST_TIMEOUT_MS);
afterAll(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

describe('master → standby replication', { timeout: 2 * NODE_TEST_TIMEOUT_MS }, () => {
  it('replicates 1,000 documents (wait: replicated): the standby answers every labelled query like the master', async () => {
    const docs = [...corpus, ...syntheticDocs(1000 - corpus.length, 'rep')];
    expect(docs).toHaveLength(1000);
    const seq = await upsertAll(docs, 'replicated');
    // "replicated" means the standby has applied it by the time the call returns.
    const h = (await standby().client.health()).body;
    expect(compareSeq(h.index.applied_seq, seq)).toBeGreaterThanOrEqual(0);
    expect(h.index.size).toBe(1000);
    await expectSameAnswers(master(), standby());
    expectStoresMatchExpected();
  });

  it('catches a standby killed (-9) in the middle of a 5,000-document ingest up to the master exactly', async () => {
    const docs = syntheticDocs(5000, 'bulk');
    // Updates and deletes of documents the standby already holds, so versions matter too.
    const updates = corpus.slice(0, 100).map((d) => ({ ...d, text: `${d.text} (revised)` }));
    const parts = chunks(docs, 250);
    let sent = 0;
    const ingesting = (async () => {
      for (const [i, part] of parts.entries()) {
        await upsertAll(part, i % 2 === 0 ? 'none' : 'applied', 250);
        sent++;
      }
    })();
    // Mid-ingest, with a batch in flight: the standby is applying while the master keeps appending.
    await waitFor('a third of the bulk ingest', () => sent >= Math.floor(parts.length / 3), 120_000, 10);
    const standbyBefore = (await standby().client.health()).body.index.size;
    process.kill(standby().child.pid!, 'SIGKILL');
    await standby().exited;
    await ingesting;
    expect(standbyBefore).toBeLessThan(1000 + docs.length);
    await upsertAll(updates, 'applied');
    await removeAll(corpus.slice(100, 110).map((d) => d.id));
    // Wait for the master to apply everything it acknowledged (the 'none' batches too).
    await upsertAll(
      [{ id: 'bulk-marker', text: 'end of the bulk ingest marker document', metadata: {} }],
      'applied',
    );
    const beforeRestart = (await master().client.health()).body;
    expect(beforeRestart.index.size).toBe(expected.docs.size);

    await cluster!.startNode('b');
    await waitInSync(master(), [standby()]);
    expectStoresMatchExpected();
    await expectSameAnswers(master(), standby());
  });

  it("resynchronises from the master's snapshot when the log was trimmed past the standby's position", async () => {
    const log = new ChangeLog(redis!, cluster!.prefix);
    expect(await standby().stop()).toBe(0);
    const standbyAt = readDocuments(standby().dataDir).size;
    expect(standbyAt).toBe(expected.docs.size);

    await upsertAll(syntheticDocs(400, 'late'), 'applied');
    await upsertAll(
      corpus.slice(200, 240).map((d) => ({ ...d, text: `${d.text} (third edition)` })),
      'applied',
    );
    await removeAll(['bulk-00001', 'bulk-00002', 'late-00003']);

    // While b is registered, trimming waits for it (the log keeps what b still needs).
    const standbyApplied = (await log.appliedPositions()).b!;
    expect(await log.trim(0)).toBeGreaterThan(0);
    expect(compareSeq(await log.trimmedThrough(), standbyApplied)).toBeLessThanOrEqual(0);

    // The operator gives up on b and removes it, so the log can be trimmed to the master's position.
    await log.unregisterNode('b');
    expect(await log.trim(0)).toBeGreaterThan(0);
    expect(compareSeq(await log.trimmedThrough(), standbyApplied)).toBeGreaterThan(0);

    // b comes back with its old data: it must notice, copy the master's snapshot, and follow
    // again, and it must not claim to be ready (startNode waits for that) before it has done so.
    const logLines = readFileLog(standby()).length;
    await cluster!.startNode('b');
    const sinceStart = () => readFileLog(standby()).slice(logLines);
    expect(sinceStart().some((l) => l.event === 'resync.done' && l.peer === 'a')).toBe(true);
    expect((await standby().client.health()).body.index.size).toBe(expected.docs.size);
    await waitInSync(master(), [standby()]);
    // /health was polled all through the resync: it answered 503 "starting", never a 500.
    expect(sinceStart().filter((l) => l.level === 'error')).toEqual([]);
    expectStoresMatchExpected();
    await expectSameAnswers(master(), standby());
    // b registered again, so trimming waits for it from now on.
    expect(Object.keys(await log.registeredNodes()).sort()).toEqual(['a', 'b']);

    // And it keeps following: a write after the resync reaches it like any other.
    const seq = await upsertAll(
      [{ id: 'after-resync', text: 'written after the standby resynchronised', metadata: {} }],
      'replicated',
    );
    expect(compareSeq((await standby().client.health()).body.index.applied_seq, seq)).toBeGreaterThanOrEqual(
      0,
    );
    expect((await standby().client.signed('GET', '/api/v1/documents/after-resync')).body).toMatchObject({
      id: 'after-resync',
      version: 1,
    });
  });
});

function readFileLog(n: NodeProcess): Record<string, unknown>[] {
  return readFileSync(n.logPath, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
