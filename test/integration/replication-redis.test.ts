/**
 * Redis restart in the middle of an ingest (redis-server with AOF, appendfsync always,
 * killed with SIGKILL and started again on the same directory). Two real nodes keep serving
 * searches while Redis is down and refuse writes with a clear 503; once it is back, every write
 * the master acknowledged ends up on both nodes, searchable, and nothing shows up twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../scripts/cluster/redis-server.ts';
import { chunks, loadQueries, type CorpusDoc } from '../../scripts/corpus/sample.ts';
import { syntheticDocs } from '../../scripts/corpus/synthetic.ts';
import {
  startNodeCluster,
  waitFor,
  waitInSync,
  NODE_TEST_TIMEOUT_MS,
  type TestCluster,
} from '../helpers/cluster.ts';
import { readDocuments } from '../helpers/node-data.ts';

const queries = loadQueries();
let redis: RedisServer | undefined;
let cluster: TestCluster | undefined;
const a = () => cluster!.node('a');
const b = () => cluster!.node('b');

interface WriteOutcome {
  docs: CorpusDoc[];
  status: number;
  body: unknown;
}

beforeAll(async () => {
  redis = await startRedisServer();
  cluster = await startNodeCluster({ nodes: ['a', 'b'], redis });
}, NODE_TEST_TIMEOUT_MS);
afterAll(async () => {
  await cluster?.stop();
  await redis?.stop();
});

describe('Redis restart during an ingest', { timeout: 2 * NODE_TEST_TIMEOUT_MS }, () => {
  it('loses no acknowledged write, duplicates nothing, and keeps searches up while Redis is down', async () => {
    const docs = syntheticDocs(2400, 'redis');
    const outcomes: WriteOutcome[] = [];
    let acked = 0;
    // Two writers, like two clients, alternating wait levels.
    const writer = async (part: CorpusDoc[][]) => {
      for (const [i, batch] of part.entries()) {
        const res = await a()
          .client.upsert(batch, cluster!.epoch, i % 2 === 0 ? 'none' : 'applied')
          .catch((err: Error) => ({ status: 0, body: err.message }));
        outcomes.push({ docs: batch, status: res.status, body: res.body });
        if (res.status === 200 || res.status === 202) acked++;
        // While Redis is down every write is refused at once; do not spin.
        if (res.status === 503) await new Promise((r) => setTimeout(r, 50));
      }
    };
    const batches = chunks(docs, 20);
    const writers = [
      writer(batches.filter((_, i) => i % 2 === 0)),
      writer(batches.filter((_, i) => i % 2 === 1)),
    ];

    let downChecks: { search: number[]; write: { status: number; body: unknown } } | null = null;
    try {
      await waitFor(
        'a third of the writes to be acknowledged',
        () => acked >= batches.length / 3,
        120_000,
        20,
      );
      await redis!.kill();
      // Writes: a 503 with a JSON error that says what is wrong (the first may race the disconnect).
      const write = await waitFor(
        'a write refused with 503 while Redis is down',
        async () => {
          const res = await a().client.upsert(
            [{ id: 'during-outage', text: 'written while redis is down' }],
            cluster!.epoch,
            'none',
          );
          return res.status === 503 ? res : null;
        },
        30_000,
        100,
      );
      // Searches: both nodes answer from what they hold.
      const search: number[] = [];
      for (const q of queries.slice(0, 10)) {
        for (const n of [a(), b()]) {
          const res = await n.client.search(q.query, 5);
          search.push(res.status);
          expect(res.body.results.length).toBe(5);
        }
      }
      downChecks = { search, write };
      // Keep Redis down until the writers themselves have been refused: one may be inside a
      // `wait: "applied"` write when Redis dies, and that answers only at its own deadline.
      await waitFor(
        'a writer to be refused with 503',
        () => outcomes.some((o) => o.status === 503),
        45_000,
        50,
      );
    } finally {
      if (redis!.child.exitCode !== null || redis!.child.signalCode !== null) await redis!.restart();
    }
    await Promise.all(writers);

    expect(downChecks!.search.every((s) => s === 200)).toBe(true);
    expect(downChecks!.write.body).toMatchObject({
      error: { code: 'redis_unavailable', message: expect.stringMatching(/Redis/) },
    });
    expect(outcomes.some((o) => o.status === 503)).toBe(true);
    // Every refusal was a clear JSON 503, never a crash or an opaque 500.
    const refused = outcomes.filter((o) => o.status !== 200 && o.status !== 202);
    for (const o of refused) {
      expect([503, 504], JSON.stringify(o.body)).toContain(o.status);
      expect(o.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    }

    // After the restart the master takes writes again (once its connections are back).
    await waitFor(
      'the master to accept a write again',
      async () =>
        (
          await a().client.upsert(
            [{ id: 'after-restart', text: 'written after redis came back' }],
            cluster!.epoch,
            'applied',
          )
        ).status === 200,
      60_000,
      250,
    );
    // Accepted = acknowledged (200/202), or 504 "accepted but not finished": the job is in Redis.
    const mustHave = new Map<string, string>();
    for (const o of outcomes)
      if ([200, 202, 504].includes(o.status)) for (const d of o.docs) mustHave.set(d.id, d.text);
    mustHave.set('after-restart', 'written after redis came back');
    console.log(
      `${outcomes.length} writes: ${outcomes.filter((o) => o.status === 200 || o.status === 202).length} acknowledged, ${refused.length} refused (${refused.filter((o) => o.status === 504).length} of them 504)`,
    );

    // Jobs caught by the outage are retried with backoff; wait until the master holds them all.
    await waitFor(
      'every accepted document on the master',
      () => {
        const held = readDocuments(a().dataDir);
        return [...mustHave.keys()].every((id) => held.has(id));
      },
      180_000,
      500,
    );
    await waitInSync(a(), [b()]);
    const onA = readDocuments(a().dataDir);
    const onB = readDocuments(b().dataDir);
    for (const [id, text] of mustHave) {
      expect(onA.get(id)?.text, id).toBe(text);
      expect(onB.get(id)?.text, id).toBe(text);
    }
    expect(Object.fromEntries(onB)).toEqual(Object.fromEntries(onA));
    // Nothing appeared that no client sent (refused writes may or may not have landed: both fine).
    const sent = new Set([...docs.map((d) => d.id), 'during-outage', 'after-restart']);
    for (const id of onA.keys()) expect(sent.has(id), id).toBe(true);

    // Searchable, and never twice in one answer (a job retried after a partial append writes
    // some documents twice; the second copy must supersede the first, not join it).
    const sample = [...mustHave.keys()].filter((_, i) => i % 40 === 0);
    for (const id of sample) {
      for (const n of [a(), b()]) {
        const res = await n.client.search(mustHave.get(id)!, 20);
        expect(res.body.results[0]?.id, id).toBe(id);
        const ids = res.body.results.map((h) => h.id);
        expect(new Set(ids).size).toBe(ids.length);
      }
    }
    for (const q of queries) {
      const res = await a().client.search(q.query, 100);
      const ids = res.body.results.map((h) => h.id);
      expect(new Set(ids).size, q.query).toBe(ids.length);
    }
  });
});
