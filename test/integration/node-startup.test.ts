/**
 * Start-up refusals: a node must stop, with a message an operator can act on, when a
 * setting is bad or when its DATA_DIR was built with another model (mixing vector spaces would
 * return confident nonsense). Real node processes; they are expected to exit, not to serve.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startNode } from '../../scripts/cluster/node-process.ts';
import { startRedisServer, type RedisServer } from '../../scripts/cluster/redis-server.ts';
import { TEST_SECRET, NODE_TEST_TIMEOUT_MS } from '../helpers/cluster.ts';
import { uniquePrefix } from '../helpers/redis.ts';

const DEMO_MODEL = join(ROOT, '.gte', 'models', 'glove-100d-demo');
let redis: RedisServer | undefined;
let dir: string;

/** Starts a node that should fail; returns its exit code (from startNode's error) and its output. */
async function expectStartFailure(
  id: string,
  env: Record<string, string>,
  dataDir = join(dir, id),
): Promise<{ code: number; output: string }> {
  let error: Error | null = null;
  const logDir = join(dir, `${id}-log`);
  try {
    const proc = await startNode({
      id,
      dataDir,
      redis: redis!.url,
      redisPrefix: uniquePrefix('startup'),
      secret: TEST_SECRET,
      env,
      logDir,
      readyTimeoutMs: 60_000,
    });
    await proc.stop();
  } catch (err) {
    error = err as Error;
  }
  expect(error, 'the node started although it should have refused').not.toBeNull();
  const m = /exited with code (-?\d+|null)/.exec(error!.message);
  expect(m, error!.message).not.toBeNull();
  return { code: Number(m![1]), output: readFileSync(join(logDir, `${id}.log`), 'utf8') };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gte-it-startup-'));
  redis = await startRedisServer();
}, NODE_TEST_TIMEOUT_MS);
afterAll(async () => {
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a bad setting stops the node with a message naming the variable', {
  timeout: NODE_TEST_TIMEOUT_MS,
}, () => {
  it.each([
    ['PORT', 'abc'],
    ['INDEX_FACTORY', 'IVF'],
    ['PASSAGE_OVERLAP_TOKENS', '-1'],
    // Within the variable's range, but over half of the demo model's 254-token passages.
    ['PASSAGE_OVERLAP_TOKENS', '200'],
  ])('%s=%s', async (name, value) => {
    const { code, output } = await expectStartFailure(`bad-${name.toLowerCase().replace(/_/g, '-')}`, {
      [name]: value,
    });
    expect(code).not.toBe(0);
    expect(output).toContain(`invalid setting ${name}=${JSON.stringify(value)}`);
  });

  it('names a Redis topology setting that is incomplete or malformed', async () => {
    // REDIS_URL emptied: the launcher always names a server, and two answers are refused on their own.
    const sentinel = await expectStartFailure('bad-sentinel', {
      REDIS_URL: '',
      REDIS_SENTINELS: '127.0.0.1:1',
    });
    expect(sentinel.code).toBe(2);
    expect(sentinel.output).toContain(
      'invalid setting REDIS_SENTINEL_MASTER="": required with REDIS_SENTINELS',
    );
    const cluster = await expectStartFailure('bad-cluster', {
      REDIS_URL: '',
      REDIS_CLUSTER_NODES: 'localhost',
    });
    expect(cluster.output).toContain('invalid setting REDIS_CLUSTER_NODES="localhost"');
  });

  it('refuses to listen on every interface without ADVERTISE_URL, and to advertise a wildcard', async () => {
    const wildcard = await expectStartFailure('bad-advertise', { HOST: '0.0.0.0' });
    expect(wildcard.code).toBe(2);
    expect(wildcard.output).toContain('missing setting ADVERTISE_URL: HOST=0.0.0.0');
    const advertised = await expectStartFailure('bad-advertise-url', {
      ADVERTISE_URL: 'http://0.0.0.0:8081',
    });
    expect(advertised.code).toBe(2);
    expect(advertised.output).toContain('invalid setting ADVERTISE_URL="http://0.0.0.0:8081"');
  });

  it('names every bad setting at once, and never echoes a secret', async () => {
    // One process for several (each start costs seconds): all of them must be reported, not just the first.
    const bad = {
      EMBED_DEVICE: 'tpu',
      REDIS_URL: 'http://127.0.0.1:6379',
      SNAPSHOT_INTERVAL_MS: '-5',
      CLUSTER_SECRET: 'short-secret',
    };
    const { code, output } = await expectStartFailure('bad-several', bad);
    expect(code).not.toBe(0);
    for (const name of ['EMBED_DEVICE', 'REDIS_URL', 'SNAPSHOT_INTERVAL_MS']) {
      expect(output).toContain(`invalid setting ${name}=${JSON.stringify(bad[name as keyof typeof bad])}`);
    }
    expect(output).toContain('invalid setting CLUSTER_SECRET=');
    expect(output).not.toContain('short-secret');
  });
});

describe('a DATA_DIR built with another model', { timeout: NODE_TEST_TIMEOUT_MS }, () => {
  it('is refused with a message naming both models', async () => {
    const dataDir = join(dir, 'shared-data');
    // Build a data directory with the default model (a few documents so it is not trivially empty).
    const first = await startNode({
      id: 'builder',
      dataDir,
      redis: redis!.url,
      redisPrefix: uniquePrefix('startup'),
      secret: TEST_SECRET,
    });
    try {
      expect((await first.client.activate(1)).status).toBe(200);
      expect(
        (await first.client.upsert([{ id: 'doc-1', text: 'expense claims within sixty days' }], 1, 'applied'))
          .status,
      ).toBe(200);
    } finally {
      expect(await first.stop()).toBe(0);
    }

    // The same ONNX file and tokenizer under another model id: a different model to the node.
    const otherModel = join(dir, 'other-model');
    mkdirSync(otherModel);
    symlinkSync(join(DEMO_MODEL, 'model.onnx'), join(otherModel, 'model.onnx'));
    symlinkSync(join(DEMO_MODEL, 'tokenizer.json'), join(otherModel, 'tokenizer.json'));
    const manifest = JSON.parse(readFileSync(join(DEMO_MODEL, 'gte-pro-model.json'), 'utf8')) as {
      id: string;
    };
    writeFileSync(
      join(otherModel, 'gte-pro-model.json'),
      JSON.stringify({ ...manifest, id: 'acme/other-model-v2' }),
    );

    const { code, output } = await expectStartFailure('mismatch', { MODEL_DIR: otherModel }, dataDir);
    expect(code).not.toBe(0);
    expect(output).toContain(manifest.id);
    expect(output).toContain('acme/other-model-v2');
    expect(output).toMatch(/DATA_DIR/);

    // The refusal did not damage the data: the original model still opens it.
    const again = await startNode({
      id: 'builder',
      dataDir,
      redis: redis!.url,
      redisPrefix: uniquePrefix('startup'),
      secret: TEST_SECRET,
    });
    try {
      expect((await again.client.health()).body.index.size).toBe(1);
    } finally {
      await again.stop();
    }
  });
});
