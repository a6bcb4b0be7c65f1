/**
 * A node that tells the truth about itself, on real processes: a killed embedder or FAISS worker
 * shows in /health (parts, ready, model.loaded) until its supervisor brings it back; the node
 * registers its ADVERTISE_URL; a signed DELETE /api/v1/peers/:id takes a node out of the trim set.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeHealth } from '../../shared/schemas.ts';
import {
  ingest,
  NODE_TEST_TIMEOUT_MS,
  startNodeCluster,
  type TestCluster,
  waitFor,
} from '../helpers/cluster.ts';
import { redisClient } from '../helpers/redis.ts';
import { loadDocuments } from '../../scripts/corpus/sample.ts';

const ADVERTISED = 'http://gpu-a.test.invalid:8081';
let cluster: TestCluster | undefined;
let redis: Redis | undefined;
const a = () => cluster!.node('a');

beforeAll(async () => {
  cluster = await startNodeCluster({ nodes: 1, env: { FAULT_INJECTION: '1', ADVERTISE_URL: ADVERTISED } });
  redis = redisClient(cluster.redis.url);
  await ingest(a(), loadDocuments().slice(0, 20), cluster.epoch, 'applied');
}, NODE_TEST_TIMEOUT_MS);
afterAll(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

/** Polls /health until `seen` holds for it, keeping every answer seen on the way. */
async function healthUntil(what: string, seen: (h: NodeHealth, status: number) => boolean) {
  const answers: NodeHealth[] = [];
  await waitFor(
    what,
    async () => {
      const h = await a().client.health();
      answers.push(h.body);
      return seen(h.body, h.status);
    },
    30_000,
    5,
  );
  return answers;
}

describe('a node that never lies about itself', { timeout: NODE_TEST_TIMEOUT_MS }, () => {
  it('reports every part ok when it is ready', async () => {
    const h = await a().client.health();
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({
      ready: true,
      status: 'ok',
      write_path: 'ok',
      model: { loaded: true },
      parts: { embedder: 'ok', index: 'ok', applier: 'ok', redis: 'ok', disk: 'ok' },
    });
  });

  it.each([
    ['embedder', 'embedder'],
    ['index', 'index'],
  ] as const)(
    'a killed %s worker shows as restarting, then the node is ready again',
    async (worker, part) => {
      const res = await a().client.signed('POST', '/api/v1/faults', { crash_worker: worker });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const seen = await healthUntil(`${part} restarting`, (h) => h.parts?.[part] !== 'ok');
      const down = seen[seen.length - 1]!;
      expect(down.ready).toBe(false);
      expect(down.parts![part]).toMatch(/^restarting: /);
      if (part === 'embedder') expect(down.model.loaded).toBe(false);
      await healthUntil(`${part} back`, (h, status) => status === 200 && h.parts?.[part] === 'ok');
      const search = await a().client.search('interest rate', 3);
      expect(search.status).toBe(200);
      expect(search.body.results.length).toBeGreaterThan(0);
    },
  );

  it('registers the URL it advertises, and a signed DELETE /api/v1/peers/:id removes a node from the trim set', async () => {
    const nodes = `${cluster!.prefix}:nodes`;
    expect(await redis!.hget(nodes, 'a')).toBe(ADVERTISED);
    await redis!.hset(nodes, 'gone', 'http://10.0.0.9:8081');
    await redis!.hset(`${cluster!.prefix}:applied`, 'gone', '1-0');
    const res = await a().client.signed('DELETE', '/api/v1/peers/gone');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await redis!.hexists(nodes, 'gone')).toBe(0);
    expect(await redis!.hexists(`${cluster!.prefix}:applied`, 'gone')).toBe(0);
    expect(await redis!.hget(nodes, 'a')).toBe(ADVERTISED);
  });
});
